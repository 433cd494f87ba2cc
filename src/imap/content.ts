import { PassThrough, Readable } from 'node:stream';
import type { MailboxService } from '../mailbox/index.js';
import type { MailboxMessage } from '../store/index.js';
import { type MimePart, parseMessage } from './mime/index.js';

/** Bump when MimePart changes shape, so older cached structures are recomputed. */
const STRUCTURE_VERSION = 1;

/**
 * A message's parsed part tree: from the `structure` cache column when it is there, else parsed
 * once from the body and stored, so later FETCH and SEARCH do not parse it again.
 */
export async function structureOf(mailboxes: MailboxService, msg: MailboxMessage): Promise<MimePart> {
  // A blob never changes, so its parsed tree can be shared by every message (and copy) that uses it.
  const known = parsed.get(msg.blobRef);
  if (known) return known;
  let root: MimePart | null = null;
  if (msg.structure) {
    try {
      const cached = JSON.parse(msg.structure) as { v: number; root: MimePart };
      if (cached.v === STRUCTURE_VERSION) root = cached.root;
    } catch {
      // A damaged cache entry is recomputed below.
    }
  }
  if (!root) {
    root = parseMessage(await mailboxes.readBody(msg));
    await storeStructure(mailboxes, msg, root);
  }
  remember(msg.blobRef, root);
  return root;
}

/** Parsed trees by blob ref, oldest first; bounded so a huge mailbox cannot grow it without end. */
const parsed = new Map<string, MimePart>();
const PARSED_MAX = 20_000;

function remember(blobRef: string, root: MimePart): void {
  parsed.set(blobRef, root);
  if (parsed.size > PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
}

/** Write a computed structure to the cache (also at APPEND, when the body is at hand). */
export async function storeStructure(mailboxes: MailboxService, msg: MailboxMessage, root: MimePart): Promise<void> {
  const json = JSON.stringify({ v: STRUCTURE_VERSION, root });
  msg.structure = json;
  await mailboxes.setStructure(msg.mailboxId, msg.uid, json).catch(() => false);
}

/**
 * Bytes `start` to `end` of a message, streamed from the store: what comes before is read and
 * dropped, and reading stops at `end`, so memory stays at one chunk whatever the message size.
 */
export function openRange(mailboxes: MailboxService, msg: MailboxMessage, start: number, end: number): Readable {
  const out = new PassThrough();
  if (end <= start) {
    out.end();
    return out;
  }
  const source = Readable.from(mailboxes.openBody(msg) as AsyncIterable<Buffer>);
  (async () => {
    let pos = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const cStart = Math.max(start - pos, 0);
      const cEnd = Math.min(end - pos, chunk.length);
      pos += chunk.length;
      if (cEnd > cStart && !out.write(chunk.subarray(cStart, cEnd))) {
        await new Promise((r) => out.once('drain', r));
      }
      if (pos >= end) break;
    }
    out.end();
  })().catch((err) => out.destroy(err as Error));
  return out;
}

/** Bytes of a range, in memory (header sections, which are small). */
export async function readRange(
  mailboxes: MailboxService,
  msg: MailboxMessage,
  start: number,
  end: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of openRange(mailboxes, msg, start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
