import { DELIMITER, MailboxError, QuotaExceededError } from '../mailbox/index.js';
import type { Mailbox } from '../store/index.js';
import { storeStructure } from './content.js';
import { astr } from './encode.js';
import { flagList, hasFlag, invalidFlag, SYSTEM_FLAGS } from './flags.js';
import { hasChildren, listMatcher } from './list.js';
import { parseMessage } from './mime/index.js';
import { decodeMailboxName, encodeMailboxName } from './mutf7.js';
import type { ImapCommand } from './parser/command.js';
import { formatSequenceSet, selectFromSet } from './parser/sequence.js';
import { SelectedMailbox } from './selected.js';
import type { Reply, SessionContext } from './session.js';

const ok = (text: string, out: string[] = []): Reply => ({ out, status: 'OK', text });
const no = (text: string, out: string[] = []): Reply => ({ out, status: 'NO', text });

/** A mailbox name from the wire (modified UTF-7) as stored; MailboxError when it cannot be decoded. */
export function mailboxName(wire: string): string {
  const name = decodeMailboxName(wire);
  if (name === null) throw new MailboxError('CANNOT', 'Mailbox name is not valid modified UTF-7');
  return name;
}

/** A stored name as sent on the wire. */
export function wireName(name: string): string {
  return astr(encodeMailboxName(name));
}

/** Commands on mailboxes as a whole; null when the command is not one of them. */
export async function mailboxCommand(ctx: SessionContext, c: ImapCommand): Promise<Reply | null> {
  const { mailboxes } = ctx.deps;
  const userId = ctx.user.id;
  switch (c.name) {
    case 'SELECT':
    case 'EXAMINE':
      return select(ctx, c);
    case 'CLOSE':
    case 'UNSELECT': {
      const sel = ctx.selected!;
      if (c.name === 'CLOSE' && !sel.readOnly) await mailboxes.expunge(sel.mailbox.id, { origin: ctx.origin });
      ctx.select(null);
      return ok(`${c.name === 'CLOSE' ? 'Close' : 'Unselect'} completed.`);
    }
    case 'CREATE':
      await mailboxes.create(userId, mailboxName(c.mailbox));
      return ok('Create completed.');
    case 'DELETE': {
      const name = mailboxName(c.mailbox);
      if (ctx.selected && ctx.selected.mailbox.name === (await mailboxes.require(userId, name)).name) ctx.select(null);
      await mailboxes.delete(userId, name);
      return ok('Delete completed.');
    }
    case 'RENAME':
      await mailboxes.rename(userId, mailboxName(c.from), mailboxName(c.to), { origin: ctx.origin });
      return ok('Rename completed.');
    case 'SUBSCRIBE':
      await mailboxes.subscribe(userId, mailboxName(c.mailbox));
      return ok('Subscribe completed.');
    case 'UNSUBSCRIBE':
      await mailboxes.unsubscribe(userId, mailboxName(c.mailbox));
      return ok('Unsubscribe completed.');
    case 'NAMESPACE':
      return ok('Namespace completed.', [`* NAMESPACE (("" "${DELIMITER}")) NIL NIL\r\n`]);
    case 'LIST':
      return list(ctx, c);
    case 'LSUB': {
      const match = listMatcher(mailboxName(c.reference), mailboxName(c.pattern));
      const out = (await mailboxes.subscriptions(userId))
        .filter(match)
        .map((n) => `* LSUB () "${DELIMITER}" ${wireName(n)}\r\n`);
      return ok('Lsub completed.', out);
    }
    case 'STATUS': {
      const box = await mailboxes.require(userId, mailboxName(c.mailbox));
      return ok('Status completed.', [await statusLine(ctx, box, c.items)]);
    }
    case 'APPEND':
      return append(ctx, c);
    case 'GETQUOTAROOT': {
      const box = await mailboxes.require(userId, mailboxName(c.mailbox));
      const q = await mailboxes.quota(userId, ctx.user);
      if (q.limitBytes === null) return ok('Getquotaroot completed.', [`* QUOTAROOT ${wireName(box.name)}\r\n`]);
      return ok('Getquotaroot completed.', [`* QUOTAROOT ${wireName(box.name)} ""\r\n`, quotaLine(q)]);
    }
    case 'GETQUOTA': {
      const q = await mailboxes.quota(userId, ctx.user);
      if (c.root !== '' || q.limitBytes === null) return no('[NONEXISTENT] Quota root does not exist.');
      return ok('Getquota completed.', [quotaLine(q)]);
    }
    default:
      return null;
  }
}

function quotaLine(q: { usedBytes: number; limitBytes: number | null }): string {
  // STORAGE is counted in units of 1024 octets (RFC 9208 5.1).
  return `* QUOTA "" (STORAGE ${Math.ceil(q.usedBytes / 1024)} ${Math.floor((q.limitBytes ?? 0) / 1024)})\r\n`;
}

async function select(ctx: SessionContext, c: Extract<ImapCommand, { name: 'SELECT' | 'EXAMINE' }>): Promise<Reply> {
  const { mailboxes } = ctx.deps;
  // A failed SELECT leaves no mailbox selected (RFC 3501 6.3.1).
  ctx.select(null);
  if (c.qresync && !ctx.qresync) return { out: [], status: 'BAD', text: 'QRESYNC is not enabled.' };
  const box = await mailboxes.get(ctx.user.id, mailboxName(c.mailbox));
  if (!box) return no('[NONEXISTENT] Mailbox does not exist.');
  if (c.condstore) ctx.condstore = true;
  const messages = await mailboxes.messages(box.id);
  const readOnly = c.name === 'EXAMINE';
  const selected = new SelectedMailbox(box, messages, readOnly, mailboxes.notifier, ctx.origin);
  ctx.select(selected);
  const firstUnseen = messages.findIndex((m) => !hasFlag(m.flags, '\\Seen'));
  const out = [
    `* FLAGS (${SYSTEM_FLAGS.join(' ')})\r\n`,
    `* OK [PERMANENTFLAGS (${readOnly ? '' : `${SYSTEM_FLAGS.join(' ')} \\*`})] Flags permitted.\r\n`,
    `* ${messages.length} EXISTS\r\n`,
    '* 0 RECENT\r\n',
  ];
  if (firstUnseen !== -1) out.push(`* OK [UNSEEN ${firstUnseen + 1}] First unseen.\r\n`);
  out.push(
    `* OK [UIDVALIDITY ${box.uidValidity}] UIDs valid\r\n`,
    `* OK [UIDNEXT ${box.uidNext}] Predicted next UID\r\n`,
  );
  // Like Dovecot, only to clients that use CONDSTORE (ENABLE, or a SELECT/EXAMINE parameter).
  if (ctx.condstore) out.push(`* OK [HIGHESTMODSEQ ${box.highestModseq}] Highest\r\n`);
  if (c.qresync && c.qresync.uidValidity === box.uidValidity) {
    const known = c.qresync.knownUids;
    const vanished = (await mailboxes.expungedSince(box.id, c.qresync.modseq)).filter(
      (u) => !known || selectFromSet(known, [u]).length > 0,
    );
    if (vanished.length > 0) out.push(`* VANISHED (EARLIER) ${formatSequenceSet(vanished)}\r\n`);
    messages.forEach((m, i) => {
      if (m.modseq > c.qresync!.modseq)
        out.push(`* ${i + 1} FETCH (UID ${m.uid} FLAGS ${flagList(m.flags)} MODSEQ (${m.modseq}))\r\n`);
    });
  }
  return ok(`[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'Examine' : 'Select'} completed.`, out);
}

async function list(ctx: SessionContext, c: Extract<ImapCommand, { name: 'LIST' }>): Promise<Reply> {
  const { mailboxes } = ctx.deps;
  const reference = mailboxName(c.reference);
  if (c.patterns.length === 1 && c.patterns[0] === '') {
    return ok('List completed.', [`* LIST (\\Noselect) "${DELIMITER}" ""\r\n`]);
  }
  const boxes = await mailboxes.list(ctx.user.id);
  const names = boxes.map((b) => b.name);
  const subscribed = new Set(await mailboxes.subscriptions(ctx.user.id));
  const matchers = c.patterns.map((p) => listMatcher(reference, mailboxName(p)));
  const selectSubscribed = c.options.select.includes('SUBSCRIBED');
  const specialOnly = c.options.select.includes('SPECIAL-USE');
  const showSubscribed = selectSubscribed || c.options.subscribed;
  const candidates = selectSubscribed ? [...new Set([...subscribed])].sort() : names;
  const byName = new Map(boxes.map((b) => [b.name, b]));
  const out: string[] = [];
  for (const name of candidates) {
    if (!matchers.some((m) => m(name))) continue;
    const box = byName.get(name);
    if (specialOnly && !box?.specialUse) continue;
    const attrs: string[] = [];
    if (!box) attrs.push('\\NonExistent');
    else attrs.push(hasChildren(name, names) ? '\\HasChildren' : '\\HasNoChildren');
    if (showSubscribed && subscribed.has(name)) attrs.push('\\Subscribed');
    if (box?.specialUse) attrs.push(box.specialUse);
    out.push(`* LIST (${attrs.join(' ')}) "${DELIMITER}" ${wireName(name)}\r\n`);
    if (c.options.status && box) out.push(await statusLine(ctx, box, c.options.status));
  }
  return ok('List completed.', out);
}

async function statusLine(ctx: SessionContext, box: Mailbox, items: string[]): Promise<string> {
  const { mailboxes } = ctx.deps;
  const fresh = await mailboxes.refresh(box.id);
  const needMessages = items.some((i) => i === 'MESSAGES' || i === 'UNSEEN' || i === 'SIZE' || i === 'DELETED');
  const messages = needMessages ? await mailboxes.messages(box.id) : [];
  const values = items.map((item) => {
    switch (item) {
      case 'MESSAGES':
        return `MESSAGES ${messages.length}`;
      case 'RECENT':
        return 'RECENT 0';
      case 'UIDNEXT':
        return `UIDNEXT ${fresh.uidNext}`;
      case 'UIDVALIDITY':
        return `UIDVALIDITY ${fresh.uidValidity}`;
      case 'UNSEEN':
        return `UNSEEN ${messages.filter((m) => !hasFlag(m.flags, '\\Seen')).length}`;
      case 'HIGHESTMODSEQ':
        return `HIGHESTMODSEQ ${fresh.highestModseq}`;
      case 'SIZE':
        return `SIZE ${messages.reduce((n, m) => n + m.size, 0)}`;
      default:
        return `DELETED ${messages.filter((m) => hasFlag(m.flags, '\\Deleted')).length}`;
    }
  });
  return `* STATUS ${wireName(box.name)} (${values.join(' ')})\r\n`;
}

async function append(ctx: SessionContext, c: Extract<ImapCommand, { name: 'APPEND' }>): Promise<Reply> {
  const { mailboxes } = ctx.deps;
  const bad = invalidFlag(c.flags);
  if (bad) return { out: [], status: 'BAD', text: `Invalid system flag ${bad.slice(0, 30)}` };
  if (c.message.length > ctx.deps.messageSize) return no('[TOOBIG] Message too large.');
  if (c.message.length === 0) return no('Message is empty.');
  const box = await mailboxes.get(ctx.user.id, mailboxName(c.mailbox));
  if (!box) return no('[TRYCREATE] Mailbox does not exist.');
  try {
    const r = await mailboxes.append(ctx.user.id, box, c.message, {
      flags: c.flags,
      ...(c.date !== null ? { internalDate: c.date } : {}),
      origin: ctx.origin,
    });
    await storeStructure(mailboxes, r.message, parseMessage(c.message));
    return ok(`[APPENDUID ${r.uidValidity} ${r.uid}] Append completed.`);
  } catch (err) {
    if (err instanceof QuotaExceededError) return no('[OVERQUOTA] Quota exceeded (mailbox for user is full)');
    throw err;
  }
}
