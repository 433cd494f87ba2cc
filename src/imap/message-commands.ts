import { QuotaExceededError } from '../mailbox/index.js';
import type { MailboxMessage } from '../store/index.js';
import { structureOf } from './content.js';
import type { Out } from './encode.js';
import { fetchResponse, setsSeen, UnknownCteError } from './fetch.js';
import { flagList, hasFlag, invalidFlag } from './flags.js';
import { mailboxName } from './mailbox-commands.js';
import type { ImapCommand } from './parser/command.js';
import { formatDateTime } from './parser/dates.js';
import { formatSequenceSet, type SequenceSet, selectFromSet } from './parser/sequence.js';
import { matches } from './search.js';
import type { SelectedMailbox } from './selected.js';
import type { Reply, SessionContext } from './session.js';

const ok = (text: string, out: Out[] = []): Reply => ({ out, status: 'OK', text });
const no = (text: string, out: Out[] = []): Reply => ({ out, status: 'NO', text });

/** UIDs a sequence set names: by UID, or by sequence number in the session's view. */
function targetUids(sel: SelectedMailbox, set: SequenceSet, uid: boolean): number[] {
  if (uid) return selectFromSet(set, sel.uids);
  const seqs = selectFromSet(
    set,
    sel.uids.map((_, i) => i + 1),
  );
  return seqs.map((s) => sel.uids[s - 1]!);
}

/** Whether a non-UID set names sequence numbers past the end (RFC 3501: BAD). */
function badSequence(sel: SelectedMailbox, set: SequenceSet): boolean {
  return set.some((r) => (r.from ?? 0) > sel.exists || (r.to ?? 0) > sel.exists);
}

/** Messages by UID, current from the store. */
async function load(ctx: SessionContext, uids: number[]): Promise<MailboxMessage[]> {
  const sel = ctx.selected!;
  if (uids.length === 0) return [];
  // A large share of the mailbox is cheaper to read in one pass than by a long list of UIDs.
  if (uids.length > 500) {
    const wanted = new Set(uids);
    return (await ctx.deps.mailboxes.messages(sel.mailbox.id)).filter((m) => wanted.has(m.uid));
  }
  return ctx.deps.store.getMailboxMessages(sel.mailbox.id, uids);
}

/** Commands on messages of the selected mailbox; null when the command is not one of them. */
export async function messageCommand(ctx: SessionContext, c: ImapCommand): Promise<Reply | null> {
  const sel = ctx.selected;
  if (!sel) return null;
  switch (c.name) {
    case 'FETCH':
      return fetch(ctx, sel, c);
    case 'STORE':
      return store(ctx, sel, c);
    case 'COPY':
    case 'MOVE':
      return copy(ctx, sel, c);
    case 'EXPUNGE':
    case 'UID EXPUNGE': {
      if (sel.readOnly) return no('[READ-ONLY] Mailbox is read-only.');
      const uids = c.name === 'UID EXPUNGE' ? selectFromSet(c.set, sel.uids) : undefined;
      const r = await ctx.deps.mailboxes.expunge(sel.mailbox.id, { ...(uids ? { uids } : {}), origin: ctx.origin });
      const out = expungeLines(
        ctx,
        sel,
        r.expunged.map((e) => e.uid),
      );
      if (r.expunged.length > 0) sel.highestModseq = Math.max(sel.highestModseq, r.modseq);
      return ok(ctx.condstore ? `[HIGHESTMODSEQ ${sel.highestModseq}] Expunge completed.` : 'Expunge completed.', out);
    }
    case 'SEARCH':
      return search(ctx, sel, c);
    default:
      return null;
  }
}

function expungeLines(ctx: SessionContext, sel: SelectedMailbox, uids: number[]): string[] {
  if (uids.length === 0) return [];
  if (ctx.qresync) {
    sel.removeOwn(uids);
    return [`* VANISHED ${formatSequenceSet([...uids].sort((a, b) => a - b))}\r\n`];
  }
  return sel.removeOwn(uids).map((seq) => `* ${seq} EXPUNGE\r\n`);
}

async function fetch(ctx: SessionContext, sel: SelectedMailbox, c: Extract<ImapCommand, { name: 'FETCH' }>) {
  if (!c.uid && badSequence(sel, c.set))
    return { out: [], status: 'BAD', text: 'Error in IMAP command FETCH: Invalid messageset' } as Reply;
  if (c.changedSince !== null) ctx.condstore = true;
  const { mailboxes } = ctx.deps;
  const uids = targetUids(sel, c.set, c.uid);
  let messages = await load(ctx, uids);
  if (c.changedSince !== null) messages = messages.filter((m) => m.modseq > c.changedSince!);
  const out: Out[] = [];
  if (c.vanished && c.changedSince !== null) {
    const gone = (await mailboxes.expungedSince(sel.mailbox.id, c.changedSince)).filter(
      (u) => selectFromSet(c.set, [u]).length > 0 || u <= sel.maxUid,
    );
    if (gone.length > 0) out.push(`* VANISHED (EARLIER) ${formatSequenceSet(gone)}\r\n`);
  }
  const markSeen = setsSeen(c.atts) && !sel.readOnly;
  const seenNow = new Set<number>();
  if (markSeen) {
    const unseen = messages.filter((m) => !hasFlag(m.flags, '\\Seen')).map((m) => m.uid);
    if (unseen.length > 0) {
      const r = await mailboxes.storeFlags(
        sel.mailbox.id,
        { uids: unseen, mode: 'add', flags: ['\\Seen'] },
        { origin: ctx.origin },
      );
      const byUid = new Map(r.changed.map((m) => [m.uid, m]));
      messages = messages.map((m) => byUid.get(m.uid) ?? m);
      for (const m of r.changed) seenNow.add(m.uid);
    }
  }
  if (c.atts.every((a) => CHEAP.has(a.type))) {
    // Flags and sizes only (a client syncing a large mailbox): one line per message, built at once.
    const wants = new Set(c.atts.map((a) => a.type));
    for (const m of messages) {
      const seq = sel.seqOf(m.uid);
      if (seq === 0) continue;
      out.push(`* ${seq} FETCH (${cheapItems(m, wants, c.uid, ctx.condstore, seenNow.has(m.uid))})\r\n`);
    }
    return ok('Fetch completed.', out);
  }
  try {
    for (const m of messages) {
      const seq = sel.seqOf(m.uid);
      if (seq === 0) continue;
      out.push(
        ...(await fetchResponse(
          mailboxes,
          { seq, message: m },
          {
            atts: c.atts,
            uid: c.uid,
            modseq: ctx.condstore,
            flagsChanged: seenNow.has(m.uid),
          },
        )),
      );
    }
  } catch (err) {
    if (err instanceof UnknownCteError) return no('[UNKNOWN-CTE] Unknown Content-Transfer-Encoding.', out);
    throw err;
  }
  return ok('Fetch completed.', out);
}

/** FETCH items answered from the message row alone. */
const CHEAP = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ']);

function cheapItems(m: MailboxMessage, wants: Set<string>, uid: boolean, condstore: boolean, seen: boolean): string {
  const items: string[] = [];
  if (uid || wants.has('UID')) items.push(`UID ${m.uid}`);
  if (wants.has('FLAGS') || seen) items.push(`FLAGS ${flagList(m.flags)}`);
  if (wants.has('INTERNALDATE')) items.push(`INTERNALDATE "${formatDateTime(m.internalDate)}"`);
  if (wants.has('RFC822.SIZE')) items.push(`RFC822.SIZE ${m.size}`);
  if (condstore || wants.has('MODSEQ')) items.push(`MODSEQ (${m.modseq})`);
  return items.join(' ');
}

async function store(ctx: SessionContext, sel: SelectedMailbox, c: Extract<ImapCommand, { name: 'STORE' }>) {
  if (!c.uid && badSequence(sel, c.set))
    return { out: [], status: 'BAD', text: 'Error in IMAP command STORE: Invalid messageset' } as Reply;
  if (sel.readOnly) return no('[READ-ONLY] Mailbox is read-only.');
  const bad = invalidFlag(c.flags);
  if (bad) return { out: [], status: 'BAD', text: `Invalid system flag ${bad.slice(0, 30)}` } as Reply;
  if (c.unchangedSince !== null) ctx.condstore = true;
  const uids = targetUids(sel, c.set, c.uid);
  const r = await ctx.deps.mailboxes.storeFlags(
    sel.mailbox.id,
    {
      uids,
      mode: c.mode === 'set' ? 'replace' : c.mode,
      flags: c.flags,
      ...(c.unchangedSince !== null ? { unchangedSince: c.unchangedSince } : {}),
    },
    { origin: ctx.origin },
  );
  sel.highestModseq = Math.max(sel.highestModseq, r.highestModseq);
  const out: Out[] = [];
  // With CONDSTORE the new MODSEQ is sent even for .SILENT (RFC 7162 3.1.3).
  if (!c.silent || ctx.condstore) {
    for (const m of r.changed) {
      const seq = sel.seqOf(m.uid);
      if (seq === 0) continue;
      const items = [];
      if (c.uid) items.push(`UID ${m.uid}`);
      if (!c.silent) items.push(`FLAGS ${flagList(m.flags)}`);
      if (ctx.condstore) items.push(`MODSEQ (${m.modseq})`);
      out.push(`* ${seq} FETCH (${items.join(' ')})\r\n`);
    }
  }
  if (r.failed.length > 0) {
    const failed = c.uid ? r.failed : r.failed.map((u) => sel.seqOf(u)).filter((s) => s > 0);
    return ok(`[MODIFIED ${formatSequenceSet([...failed].sort((a, b) => a - b))}] Conditional STORE failed.`, out);
  }
  return ok('Store completed.', out);
}

async function copy(ctx: SessionContext, sel: SelectedMailbox, c: Extract<ImapCommand, { name: 'COPY' | 'MOVE' }>) {
  if (!c.uid && badSequence(sel, c.set))
    return { out: [], status: 'BAD', text: `Error in IMAP command ${c.name}: Invalid messageset` } as Reply;
  const { mailboxes } = ctx.deps;
  const move = c.name === 'MOVE';
  if (move && sel.readOnly) return no('[READ-ONLY] Mailbox is read-only.');
  const dest = await mailboxes.get(ctx.user.id, mailboxName(c.mailbox));
  if (!dest) return no('[TRYCREATE] Mailbox does not exist.');
  const uids = targetUids(sel, c.set, c.uid);
  if (uids.length === 0) return ok(c.uid ? 'No messages found.' : `${move ? 'Move' : 'Copy'} completed.`);
  let r: Awaited<ReturnType<typeof mailboxes.copy>>;
  try {
    r = move
      ? await mailboxes.move(sel.mailbox, dest, uids, { origin: ctx.origin })
      : await mailboxes.copy(sel.mailbox, dest, uids, { origin: ctx.origin });
  } catch (err) {
    if (err instanceof QuotaExceededError) return no('[OVERQUOTA] Quota exceeded (mailbox for user is full)');
    throw err;
  }
  const code =
    r.mapping.length > 0
      ? `[COPYUID ${r.uidValidity} ${r.mapping.map((m) => m.from).join(',')} ${r.mapping.map((m) => m.to).join(',')}]`
      : '';
  if (!move) return ok(`${code} Copy completed.`.trim());
  const out: Out[] = [];
  if (code) out.push(`* OK ${code} Moved UIDs.\r\n`);
  out.push(...expungeLines(ctx, sel, r.expunged?.expunged.map((e) => e.uid) ?? []));
  if (r.expunged && r.expunged.expunged.length > 0) sel.highestModseq = Math.max(sel.highestModseq, r.expunged.modseq);
  return ok('Move completed.', out);
}

async function search(ctx: SessionContext, sel: SelectedMailbox, c: Extract<ImapCommand, { name: 'SEARCH' }>) {
  const { mailboxes } = ctx.deps;
  const messages = await mailboxes.messages(sel.mailbox.id);
  const ctxNums = { maxSeq: sel.exists, maxUid: sel.maxUid };
  const hits: { n: number; modseq: number }[] = [];
  const usesModseq = JSON.stringify(c.key).includes('"modseq"');
  if (usesModseq) ctx.condstore = true;
  for (const m of messages) {
    const seq = sel.seqOf(m.uid);
    if (seq === 0) continue;
    let content: Promise<Buffer> | null = null;
    const view = {
      seq,
      uid: m.uid,
      flags: m.flags,
      internalDate: m.internalDate,
      size: m.size,
      modseq: m.modseq,
      recent: false,
      structure: () => structureOf(mailboxes, m),
      content: () => {
        content ??= mailboxes.readBody(m);
        return content;
      },
    };
    if (await matches(c.key, view, ctxNums)) hits.push({ n: c.uid ? m.uid : seq, modseq: m.modseq });
  }
  const nums = hits.map((h) => h.n);
  const maxModseq = hits.reduce((a, h) => Math.max(a, h.modseq), 0);
  if (c.esearch) {
    const opts = c.esearch.length === 0 ? ['ALL'] : c.esearch;
    const parts: string[] = [];
    if (nums.length > 0) {
      if (opts.includes('MIN')) parts.push(`MIN ${Math.min(...nums)}`);
      if (opts.includes('MAX')) parts.push(`MAX ${Math.max(...nums)}`);
      if (opts.includes('ALL')) parts.push(`ALL ${formatSequenceSet([...nums].sort((a, b) => a - b))}`);
    }
    if (opts.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
    if (usesModseq && nums.length > 0) parts.push(`MODSEQ ${maxModseq}`);
    const line = `* ESEARCH (TAG ${JSON.stringify(ctx.tag)})${c.uid ? ' UID' : ''}${parts.length ? ` ${parts.join(' ')}` : ''}\r\n`;
    return ok('Search completed.', [line]);
  }
  const modseq = usesModseq && nums.length > 0 ? ` (MODSEQ ${maxModseq})` : '';
  return ok('Search completed.', [`* SEARCH${nums.map((n) => ` ${n}`).join('')}${modseq}\r\n`]);
}
