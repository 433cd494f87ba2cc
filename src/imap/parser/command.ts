import type { CommandParts } from '../reader.js';
import { parseDateTime } from './dates.js';
import { type FetchAtt, parseFetchAtts } from './fetch.js';
import { BadCharsetError, parseSearchProgram, type SearchKey } from './search.js';
import { parseSequenceSet, type SequenceSet } from './sequence.js';
import { ParseError, Tokens } from './tokens.js';

/** QRESYNC parameters of SELECT/EXAMINE (RFC 7162 3.2.5). */
export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: SequenceSet | null;
}

/** LIST options (RFC 5258 selection and return options, RFC 6154, RFC 5819). */
export interface ListOptions {
  select: string[];
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  status: string[] | null;
}

/** A parsed IMAP command; mailbox names are as sent (modified UTF-7 unless UTF8=ACCEPT). */
export type ImapCommand =
  | {
      name:
        | 'CAPABILITY'
        | 'NOOP'
        | 'LOGOUT'
        | 'STARTTLS'
        | 'CHECK'
        | 'CLOSE'
        | 'UNSELECT'
        | 'EXPUNGE'
        | 'IDLE'
        | 'NAMESPACE';
    }
  | { name: 'LOGIN'; user: string; password: string }
  | { name: 'AUTHENTICATE'; mechanism: string; initial: string | null }
  | { name: 'SELECT' | 'EXAMINE'; mailbox: string; condstore: boolean; qresync: QresyncParams | null }
  | { name: 'CREATE' | 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'GETQUOTAROOT'; mailbox: string }
  | { name: 'GETQUOTA'; root: string }
  | { name: 'RENAME'; from: string; to: string }
  | { name: 'LIST'; reference: string; patterns: string[]; options: ListOptions }
  | { name: 'LSUB'; reference: string; pattern: string }
  | { name: 'STATUS'; mailbox: string; items: string[] }
  | { name: 'APPEND'; mailbox: string; flags: string[]; date: number | null; message: Buffer }
  | { name: 'SEARCH'; uid: boolean; key: SearchKey; esearch: string[] | null }
  | { name: 'FETCH'; uid: boolean; set: SequenceSet; atts: FetchAtt[]; changedSince: number | null; vanished: boolean }
  | {
      name: 'STORE';
      uid: boolean;
      set: SequenceSet;
      mode: 'set' | 'add' | 'remove';
      silent: boolean;
      flags: string[];
      unchangedSince: number | null;
    }
  | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: 'UID EXPUNGE'; set: SequenceSet }
  | { name: 'ID'; params: Record<string, string | null> | null }
  | { name: 'ENABLE'; capabilities: string[] };

/** A command with its tag, or a BAD answer for it. */
export type ParseResult =
  | { ok: true; tag: string; command: ImapCommand }
  | { ok: false; tag: string; text: string; badCharset?: boolean };

const TAG = /^[^\x00-\x20\x7f(){%*"\\+]+$/;
const NO_ARGS = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE']);
const WITH_ARGS = new Set([
  'LOGIN',
  'AUTHENTICATE',
  'SELECT',
  'EXAMINE',
  'CREATE',
  'DELETE',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'GETQUOTAROOT',
  'GETQUOTA',
  'RENAME',
  'LIST',
  'LSUB',
  'STATUS',
  'APPEND',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
  'ID',
  'ENABLE',
]);
const STATUS_ITEMS = new Set([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'HIGHESTMODSEQ',
  'SIZE',
  'DELETED',
]);

/** Parse a whole command. Never throws: a syntax problem comes back as the text of a BAD reply. */
export function parseCommand(parts: CommandParts): ParseResult {
  const first = typeof parts[0] === 'string' ? parts[0] : '';
  const sp = first.indexOf(' ');
  const tag = sp === -1 ? first : first.slice(0, sp);
  if (!TAG.test(tag)) return { ok: false, tag: '*', text: 'Invalid tag' };
  try {
    const t = new Tokens([first.slice(tag.length), ...parts.slice(1)]);
    if (t.atEnd()) return { ok: false, tag, text: 'Missing command' };
    t.sp();
    return { ok: true, tag, command: parseBody(t) };
  } catch (err) {
    if (err instanceof ParseError) {
      // Named like Dovecot's replies: "Error in IMAP command FETCH: Invalid messageset".
      const m = /^ (?:UID )?([A-Za-z]{1,20})(?=[ ]|$)/i.exec(first.slice(tag.length));
      const prefix = /^ UID /i.test(first.slice(tag.length)) ? 'UID ' : '';
      const name = m ? ` ${prefix}${m[1]!.toUpperCase()}` : '';
      return { ok: false, tag, text: `Error in IMAP command${name}: ${err.message.replace(/\.?$/, '.')}` };
    }
    if (err instanceof BadCharsetError) return { ok: false, tag, text: 'Unsupported charset', badCharset: true };
    throw err;
  }
}

function parseBody(t: Tokens): ImapCommand {
  let name = t.name('a command name').toUpperCase();
  let uid = false;
  if (name === 'UID') {
    t.sp();
    uid = true;
    name = t.name('a command name after UID').toUpperCase();
    if (!['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE'].includes(name))
      throw new ParseError('Unknown command');
  }
  if (NO_ARGS.has(name)) {
    if (uid && name === 'EXPUNGE') {
      t.sp();
      const set = parseSequenceSet(t.word('a UID set'));
      t.end();
      return { name: 'UID EXPUNGE', set };
    }
    t.end();
    return { name } as ImapCommand;
  }
  if (name === 'IDLE' || name === 'NAMESPACE') {
    t.end();
    return { name };
  }
  if (!WITH_ARGS.has(name)) throw new ParseError('Unknown command');
  t.sp();
  const command = parseArgs(name, uid, t);
  t.end();
  return command;
}

function parseArgs(name: string, uid: boolean, t: Tokens): ImapCommand {
  switch (name) {
    case 'LOGIN': {
      const user = t.astring('a user name');
      t.sp();
      return { name, user, password: t.astring('a password') };
    }
    case 'AUTHENTICATE': {
      const mechanism = t.atom('a mechanism name');
      let initial: string | null = null;
      if (!t.atEnd()) {
        t.sp();
        initial = t.word('an initial response');
      }
      return { name, mechanism, initial };
    }
    case 'SELECT':
    case 'EXAMINE':
      return parseSelect(name, t);
    case 'CREATE':
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
    case 'GETQUOTAROOT': {
      const mailbox = t.astring('a mailbox name');
      if (name === 'CREATE' && !t.atEnd()) {
        // RFC 4466 create parameters, e.g. (USE (\Sent)): parsed and ignored.
        t.sp();
        t.list(() => skipValue(t), 'create parameters');
      }
      return { name, mailbox };
    }
    case 'GETQUOTA':
      return { name, root: t.astring('a quota root') };
    case 'RENAME': {
      const from = t.astring('a mailbox name');
      t.sp();
      return { name, from, to: t.astring('a mailbox name') };
    }
    case 'LIST':
      return parseList(t);
    case 'LSUB': {
      const reference = t.astring('a reference name');
      t.sp();
      return { name, reference, pattern: t.listMailbox() };
    }
    case 'STATUS': {
      const mailbox = t.astring('a mailbox name');
      t.sp();
      return { name, mailbox, items: statusItems(t) };
    }
    case 'APPEND':
      return parseAppend(t);
    case 'SEARCH':
      return parseSearch(uid, t);
    case 'FETCH':
      return parseFetch(uid, t);
    case 'STORE':
      return parseStore(uid, t);
    case 'COPY':
    case 'MOVE': {
      const set = parseSequenceSet(t.word('a sequence set'));
      t.sp();
      return { name, uid, set, mailbox: t.astring('a mailbox name') };
    }
    case 'ID':
      return { name, params: parseId(t) };
    case 'ENABLE': {
      const capabilities = [t.atom('a capability').toUpperCase()];
      while (!t.atEnd()) {
        t.sp();
        capabilities.push(t.atom('a capability').toUpperCase());
      }
      return { name, capabilities };
    }
    default:
      throw new ParseError('Unknown command');
  }
}

/** Skip any argument value (atom, string or nested list). */
function skipValue(t: Tokens): void {
  if (t.peek() === '(') t.list(() => skipValue(t));
  else if (t.peek() === '"' || t.literalNext()) t.string();
  else if (t.peek() === '\\') t.flag();
  else t.atom('a value');
}

export function statusItems(t: Tokens): string[] {
  return t.list(() => {
    const item = t.name('a status item').toUpperCase();
    if (!STATUS_ITEMS.has(item)) throw new ParseError(`Unknown status item ${item.slice(0, 20)}`);
    return item;
  }, 'a list of status items');
}

function parseSelect(name: 'SELECT' | 'EXAMINE', t: Tokens): ImapCommand {
  const mailbox = t.astring('a mailbox name');
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (!t.atEnd()) {
    t.sp();
    t.list(() => {
      const p = t.name('a select parameter').toUpperCase();
      if (p === 'CONDSTORE') condstore = true;
      else if (p === 'QRESYNC') {
        t.sp();
        t.expect('(');
        const uidValidity = t.number('a UIDVALIDITY');
        t.sp();
        const modseq = t.bigNumber();
        let knownUids: SequenceSet | null = null;
        if (t.accept(' ')) {
          if (t.peek() === '(') {
            // Sequence match data: accepted, not used (we answer with the full VANISHED set).
            t.list(() => t.word('a sequence set'));
          } else {
            knownUids = parseSequenceSet(t.word('a UID set'));
            if (t.accept(' ')) t.list(() => t.word('a sequence set'));
          }
        }
        t.expect(')');
        qresync = { uidValidity, modseq, knownUids };
      } else throw new ParseError(`Unknown select parameter ${p.slice(0, 20)}`);
      return p;
    }, 'select parameters');
  }
  return { name, mailbox, condstore, qresync };
}

function parseList(t: Tokens): ImapCommand {
  const options: ListOptions = { select: [], subscribed: false, children: false, specialUse: false, status: null };
  if (t.peek() === '(') {
    options.select = t.list(() => t.name('a selection option').toUpperCase(), 'selection options');
    t.sp();
  }
  const reference = t.astring('a reference name');
  t.sp();
  const patterns = t.peek() === '(' ? t.list(() => t.listMailbox(), 'patterns') : [t.listMailbox()];
  if (!t.atEnd()) {
    t.sp();
    const word = t.name('RETURN').toUpperCase();
    if (word !== 'RETURN') throw new ParseError('Expected RETURN');
    t.sp();
    t.list(() => {
      const opt = t.name('a return option').toUpperCase();
      if (opt === 'SUBSCRIBED') options.subscribed = true;
      else if (opt === 'CHILDREN') options.children = true;
      else if (opt === 'SPECIAL-USE') options.specialUse = true;
      else if (opt === 'STATUS') {
        t.sp();
        options.status = statusItems(t);
      } else throw new ParseError(`Unknown return option ${opt.slice(0, 20)}`);
      return opt;
    }, 'return options');
  }
  return { name: 'LIST', reference, patterns, options };
}

function parseAppend(t: Tokens): ImapCommand {
  const mailbox = t.astring('a mailbox name');
  t.sp();
  let flags: string[] = [];
  let date: number | null = null;
  if (t.peek() === '(') {
    flags = t.list(() => t.flag(), 'a flag list');
    t.sp();
  }
  if (t.peek() === '"') {
    date = parseDateTime(t.string('a date-time'));
    if (date === null) throw new ParseError('Invalid date-time');
    t.sp();
  }
  // `~{n}` is a literal8 (BINARY); the reader left the '~' in the text.
  t.accept('~');
  const message = t.literal();
  return { name: 'APPEND', mailbox, flags, date, message };
}

function parseSearch(uid: boolean, t: Tokens): ImapCommand {
  let esearch: string[] | null = null;
  const save = t.snapshot();
  if (t.name('a search key').toUpperCase() === 'RETURN') {
    t.sp();
    esearch = t.list(() => t.name('a return option').toUpperCase(), 'return options');
    for (const o of esearch)
      if (!['MIN', 'MAX', 'ALL', 'COUNT'].includes(o)) throw new ParseError(`Unknown return option ${o.slice(0, 20)}`);
    t.sp();
  } else t.restore(save);
  return { name: 'SEARCH', uid, key: parseSearchProgram(t), esearch };
}

function parseFetch(uid: boolean, t: Tokens): ImapCommand {
  const set = parseSequenceSet(t.word('a sequence set'));
  t.sp();
  const atts = parseFetchAtts(t);
  let changedSince: number | null = null;
  let vanished = false;
  if (!t.atEnd()) {
    t.sp();
    t.list(() => {
      const m = t.name('a fetch modifier').toUpperCase();
      if (m === 'CHANGEDSINCE') {
        t.sp();
        changedSince = t.bigNumber();
      } else if (m === 'VANISHED') vanished = true;
      else throw new ParseError(`Unknown fetch modifier ${m.slice(0, 20)}`);
      return m;
    }, 'fetch modifiers');
  }
  if (vanished && (!uid || changedSince === null)) throw new ParseError('VANISHED needs UID FETCH and CHANGEDSINCE');
  return { name: 'FETCH', uid, set, atts, changedSince, vanished };
}

function parseStore(uid: boolean, t: Tokens): ImapCommand {
  const set = parseSequenceSet(t.word('a sequence set'));
  t.sp();
  let unchangedSince: number | null = null;
  if (t.peek() === '(') {
    t.list(() => {
      const m = t.name('a store modifier').toUpperCase();
      if (m !== 'UNCHANGEDSINCE') throw new ParseError(`Unknown store modifier ${m.slice(0, 20)}`);
      t.sp();
      unchangedSince = t.bigNumber();
      return m;
    });
    t.sp();
  }
  const item = t.word('FLAGS, +FLAGS or -FLAGS');
  const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(item);
  if (!m) throw new ParseError('Expected FLAGS, +FLAGS or -FLAGS');
  t.sp();
  const flags = t.peek() === '(' ? t.list(() => t.flag(), 'a flag list') : spaceSeparatedFlags(t);
  const mode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
  return { name: 'STORE', uid, set, mode, silent: m[2] !== undefined, flags, unchangedSince };
}

function spaceSeparatedFlags(t: Tokens): string[] {
  const flags = [t.flag()];
  while (t.accept(' ')) flags.push(t.flag());
  return flags;
}

function parseId(t: Tokens): Record<string, string | null> | null {
  if (t.peek() !== '(') {
    if (t.nstring('NIL or a list') === null) return null;
    throw new ParseError('Expected NIL or a list');
  }
  const params: Record<string, string | null> = {};
  const items = t.list(() => t.nstring('an ID field'), 'a list of ID fields');
  if (items.length % 2 !== 0 || items.length > 60) throw new ParseError('ID needs field and value pairs');
  for (let i = 0; i < items.length; i += 2) {
    const key = items[i];
    if (key === null || key === undefined) throw new ParseError('ID field names must be strings');
    params[key.slice(0, 30)] = items[i + 1]?.slice(0, 1024) ?? null;
  }
  return params;
}
