import { nstr, strText } from '../encode.js';
import type { EnvelopeAddress } from './address.js';
import type { Envelope, MimePart } from './tree.js';

function addressList(list: EnvelopeAddress[]): string {
  if (list.length === 0) return 'NIL';
  return `(${list.map((a) => `(${nstr(a.name)} ${nstr(a.adl)} ${nstr(a.mailbox)} ${nstr(a.host)})`).join('')})`;
}

/** The ENVELOPE response item. */
export function renderEnvelope(e: Envelope): string {
  return (
    `(${nstr(e.date)} ${nstr(e.subject)} ${addressList(e.from)} ${addressList(e.sender)} ` +
    `${addressList(e.replyTo)} ${addressList(e.to)} ${addressList(e.cc)} ${addressList(e.bcc)} ` +
    `${nstr(e.inReplyTo)} ${nstr(e.messageId)})`
  );
}

function paramList(params: [string, string][]): string {
  if (params.length === 0) return 'NIL';
  return `(${params.map(([k, v]) => `${strText(k)} ${strText(v)}`).join(' ')})`;
}

function disposition(p: MimePart): string {
  return p.disposition ? `(${strText(p.disposition.type)} ${paramList(p.disposition.params)})` : 'NIL';
}

function language(p: MimePart): string {
  if (!p.language || p.language.length === 0) return 'NIL';
  if (p.language.length === 1) return strText(p.language[0]!);
  return `(${p.language.map(strText).join(' ')})`;
}

/** BODYSTRUCTURE (`extended`, with extension data) or BODY of a part. */
export function renderBodyStructure(p: MimePart, extended: boolean): string {
  if (p.children) {
    const kids = p.children.map((c) => renderBodyStructure(c, extended)).join('');
    let out = `(${kids} ${strText(p.subtype)}`;
    if (extended) out += ` ${paramList(p.params)} ${disposition(p)} ${language(p)} ${nstr(p.location)}`;
    return `${out})`;
  }
  const size = p.end - p.bodyStart;
  let out =
    `(${strText(p.type)} ${strText(p.subtype)} ${paramList(p.params)} ${nstr(p.id)} ` +
    `${nstr(p.description)} ${strText(p.encoding ?? '7bit')} ${size}`;
  if (p.message) {
    out += ` ${renderEnvelope(p.message.envelope!)} ${renderBodyStructure(p.message, extended)} ${p.lines}`;
  } else if (p.type.toLowerCase() === 'text') {
    out += ` ${p.lines}`;
  }
  if (extended) out += ` ${nstr(p.md5)} ${disposition(p)} ${language(p)} ${nstr(p.location)}`;
  return `${out})`;
}
