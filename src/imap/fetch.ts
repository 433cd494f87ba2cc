import type { MailboxService } from '../mailbox/index.js';
import type { MailboxMessage } from '../store/index.js';
import { openRange, readRange, structureOf } from './content.js';
import type { Out } from './encode.js';
import { flagList } from './flags.js';
import {
  Base64Decoder,
  filterHeader,
  findPart,
  knownEncoding,
  locateSection,
  type MimePart,
  QpDecoder,
  renderBodyStructure,
  renderEnvelope,
  sectionName,
} from './mime/index.js';
import { formatDateTime } from './parser/dates.js';
import type { FetchAtt, Partial, Section } from './parser/fetch.js';

/** A FETCH item that names a part the message does not have a decoder for (RFC 3516 UNKNOWN-CTE). */
export class UnknownCteError extends Error {}

/** What one message's FETCH response needs. */
export interface FetchTarget {
  seq: number;
  message: MailboxMessage;
}

export interface FetchOptions {
  atts: FetchAtt[];
  /** Add UID (UID FETCH) and MODSEQ (CHANGEDSINCE or CONDSTORE enabled) items. */
  uid: boolean;
  modseq: boolean;
  /** Flags changed by this FETCH (implicit \Seen): FLAGS is added when it was not asked for. */
  flagsChanged: boolean;
}

/** Whether the attributes read the body in a way that sets \Seen (RFC 3501 6.4.5). */
export function setsSeen(atts: readonly FetchAtt[]): boolean {
  return atts.some(
    (a) => ((a.type === 'BODY[]' || a.type === 'BINARY') && !a.peek) || a.type === 'RFC822' || a.type === 'RFC822.TEXT',
  );
}

/** The untagged FETCH response of one message, bodies streamed from the store. */
export async function fetchResponse(mailboxes: MailboxService, t: FetchTarget, opts: FetchOptions): Promise<Out[]> {
  const msg = t.message;
  const items: Out[][] = [];
  const needs = (type: string) => opts.atts.some((a) => a.type === type);
  if (opts.uid || needs('UID')) items.push([`UID ${msg.uid}`]);
  let structure: MimePart | null = null;
  const tree = async () => {
    structure ??= await structureOf(mailboxes, msg);
    return structure;
  };
  for (const att of opts.atts) {
    switch (att.type) {
      case 'UID':
        break;
      case 'FLAGS':
        items.push([`FLAGS ${flagList(msg.flags)}`]);
        break;
      case 'INTERNALDATE':
        items.push([`INTERNALDATE "${formatDateTime(msg.internalDate)}"`]);
        break;
      case 'RFC822.SIZE':
        items.push([`RFC822.SIZE ${msg.size}`]);
        break;
      case 'MODSEQ':
        break;
      case 'ENVELOPE':
        items.push([`ENVELOPE ${renderEnvelope((await tree()).envelope!)}`]);
        break;
      case 'BODYSTRUCTURE':
        items.push([`BODYSTRUCTURE ${renderBodyStructure(await tree(), true)}`]);
        break;
      case 'BODY':
        items.push([`BODY ${renderBodyStructure(await tree(), false)}`]);
        break;
      case 'RFC822':
        items.push(await sectionItem(mailboxes, msg, await tree(), 'RFC822', { part: [], kind: 'full' }, null));
        break;
      case 'RFC822.HEADER':
        items.push(
          await sectionItem(mailboxes, msg, await tree(), 'RFC822.HEADER', { part: [], kind: 'HEADER' }, null),
        );
        break;
      case 'RFC822.TEXT':
        items.push(await sectionItem(mailboxes, msg, await tree(), 'RFC822.TEXT', { part: [], kind: 'TEXT' }, null));
        break;
      case 'BODY[]': {
        const name = `BODY[${sectionName(att.section)}]${att.partial ? `<${att.partial.start}>` : ''}`;
        items.push(await sectionItem(mailboxes, msg, await tree(), name, att.section, att.partial));
        break;
      }
      case 'BINARY': {
        const decoded = await binaryOf(mailboxes, msg, await tree(), att.part);
        const name = `BINARY[${att.part.join('.')}]${att.partial ? `<${att.partial.start}>` : ''}`;
        const bytes = att.partial ? slicePartial(decoded, att.partial) : decoded;
        items.push([`${name} ${bytes.includes(0) ? '~' : ''}{${bytes.length}}\r\n`, bytes]);
        break;
      }
      case 'BINARY.SIZE': {
        const decoded = await binaryOf(mailboxes, msg, await tree(), att.part);
        items.push([`BINARY.SIZE[${att.part.join('.')}] ${decoded.length}`]);
        break;
      }
    }
  }
  if (opts.flagsChanged && !needs('FLAGS')) items.push([`FLAGS ${flagList(msg.flags)}`]);
  if (opts.modseq || needs('MODSEQ')) items.push([`MODSEQ (${msg.modseq})`]);
  const out: Out[] = [`* ${t.seq} FETCH (`];
  items.forEach((item, i) => {
    if (i > 0) out.push(' ');
    out.push(...item);
  });
  out.push(')\r\n');
  return out;
}

function slicePartial(buf: Buffer, p: Partial): Buffer {
  return buf.subarray(Math.min(p.start, buf.length), Math.min(p.start + p.length, buf.length));
}

async function sectionItem(
  mailboxes: MailboxService,
  msg: MailboxMessage,
  root: MimePart,
  name: string,
  section: Section,
  partial: Partial | null,
): Promise<Out[]> {
  const src = locateSection(root, section, msg.size);
  if (src.kind === 'empty') return [`${name} ""`];
  if (src.kind === 'fields') {
    const header = filterHeader(await readRange(mailboxes, msg, src.start, src.end), src.fields, src.not);
    const bytes = partial ? slicePartial(header, partial) : header;
    return [`${name} {${bytes.length}}\r\n`, bytes];
  }
  let { start, end } = src;
  if (partial) {
    start = Math.min(start + partial.start, end);
    end = Math.min(start + partial.length, end);
  }
  const size = end - start;
  return [`${name} `, { size, open: () => openRange(mailboxes, msg, start, end) }];
}

/** The decoded content of a part (BINARY); the whole message for an empty part path. */
async function binaryOf(
  mailboxes: MailboxService,
  msg: MailboxMessage,
  root: MimePart,
  path: number[],
): Promise<Buffer> {
  if (path.length === 0) return readRange(mailboxes, msg, 0, msg.size);
  const part = findPart(root, path);
  if (!part) return Buffer.alloc(0);
  const kind = part.children || part.message ? 'identity' : knownEncoding(part.encoding);
  if (kind === null) throw new UnknownCteError(part.encoding ?? '');
  const raw = openRange(mailboxes, msg, part.bodyStart, part.end);
  const stream = kind === 'base64' ? raw.pipe(new Base64Decoder()) : kind === 'qp' ? raw.pipe(new QpDecoder()) : raw;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
