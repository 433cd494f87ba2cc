import type { HeaderEdit } from './types.js';

/** One header field as it appears in the message. */
export interface HeaderField {
  name: string;
  /** Everything after the colon, folding included, without the final CRLF. */
  value: string;
  /** The field's exact bytes, final CRLF included. */
  raw: Buffer;
}

/** A message split into its header fields and its body (the octets after the empty line). */
export interface SplitMessage {
  fields: HeaderField[];
  /** The empty line and everything after it; empty when the message has no body. */
  rest: Buffer;
}

/** Split a CRLF message into header fields and the rest. Lines that are not fields end the header. */
export function splitMessage(message: Buffer): SplitMessage {
  const fields: HeaderField[] = [];
  let at = 0;
  while (at < message.length) {
    // A blank line (or a line without a colon before any field content) ends the header section.
    if (message[at] === 0x0d && message[at + 1] === 0x0a) break;
    let end = at;
    for (;;) {
      const nl = message.indexOf('\r\n', end, 'latin1');
      if (nl < 0) {
        end = message.length;
        break;
      }
      end = nl + 2;
      const next = message[end];
      if (next !== 0x20 && next !== 0x09) break;
    }
    const raw = message.subarray(at, end);
    const text = raw.toString('utf8').replace(/\r\n$/, '');
    const colon = text.indexOf(':');
    if (colon <= 0 || /[\s]/.test(text.slice(0, colon))) break;
    fields.push({ name: text.slice(0, colon), value: text.slice(colon + 1), raw });
    at = end;
  }
  return { fields, rest: message.subarray(at) };
}

/** The body proper: what follows the header section's empty line. */
export function bodyOf(split: SplitMessage): Buffer {
  const r = split.rest;
  return r[0] === 0x0d && r[1] === 0x0a ? r.subarray(2) : r;
}

/** Serialize a field; a value's bare LF line breaks (milter convention) become CRLF. */
function fieldBytes(name: string, value: string, leadingSpace: boolean): Buffer {
  const v = value.replace(/\r?\n/g, '\r\n');
  const sep = leadingSpace && v !== '' && !v.startsWith(' ') && !v.startsWith('\t') ? ' ' : '';
  return Buffer.from(`${name}:${sep}${v}\r\n`, 'utf8');
}

/**
 * Apply scanner results to a message: milter header edits in order, then `prepend` fields at the
 * top, then a replacement body. Values in `edits` are as the milter sent them (with their leading
 * space when HDR_LEADSPC was negotiated; a space is added to those without one).
 */
export function applyEdits(message: Buffer, edits: HeaderEdit[], prepend: [string, string][], body?: Buffer): Buffer {
  if (edits.length === 0 && prepend.length === 0 && !body) return message;
  const split = splitMessage(message);
  const fields: Buffer[] = split.fields.map((f) => f.raw);
  const names: string[] = split.fields.map((f) => f.name.toLowerCase());
  for (const e of edits) {
    if (e.op === 'add') {
      fields.push(fieldBytes(e.name, e.value, true));
      names.push(e.name.toLowerCase());
    } else if (e.op === 'insert') {
      const i = Math.max(0, Math.min(e.index, fields.length));
      fields.splice(i, 0, fieldBytes(e.name, e.value, true));
      names.splice(i, 0, e.name.toLowerCase());
    } else {
      const want = e.name.toLowerCase();
      let seen = 0;
      const i = names.findIndex((n) => n === want && ++seen === Math.max(1, e.index));
      if (i < 0) {
        // Sendmail's rule: changing a field that is not there adds it.
        if (e.value !== '') {
          fields.push(fieldBytes(e.name, e.value, true));
          names.push(want);
        }
      } else if (e.value === '') {
        fields.splice(i, 1);
        names.splice(i, 1);
      } else {
        fields[i] = fieldBytes(e.name, e.value, true);
      }
    }
  }
  const top = prepend.map(([n, v]) => fieldBytes(n, v.replace(/[\r\n]+/g, ' '), true));
  let rest = split.rest;
  if (body) rest = Buffer.concat([Buffer.from('\r\n'), body]);
  return Buffer.concat([...top, ...fields, rest]);
}
