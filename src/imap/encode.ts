import type { Readable } from 'node:stream';

/**
 * One piece of a response on its way to the socket: text, bytes, or a body streamed from the
 * store with its exact size announced in the literal header before it.
 */
export type Out = string | Buffer | { size: number; open: () => Readable };

const SAFE_QUOTED = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

/** A quoted string when the value allows it (short, 7-bit, no CR/LF), else a literal. */
export function str(value: string | Buffer): Out {
  const text = typeof value === 'string' ? value : null;
  if (text !== null && text.length < 1024 && SAFE_QUOTED.test(text)) return quoted(text);
  const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return literal(buf);
}

/** A string as text only (quoted, or a literal written inline): for building single lines. */
export function strText(value: string): string {
  if (value.length < 1024 && SAFE_QUOTED.test(value)) return quoted(value);
  const buf = Buffer.from(value, 'utf8');
  return `{${buf.length}}\r\n${value}`;
}

/** NIL or a string. */
export function nstr(value: string | null | undefined): string {
  return value === null || value === undefined ? 'NIL' : strText(value);
}

/** `"text"` with \ and " escaped. */
export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A literal: `{n}` CRLF and the bytes. */
export function literal(buf: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{${buf.length}}\r\n`), buf]);
}

/** An astring: a bare atom when safe, else a string. */
export function astr(text: string): string {
  if (/^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c\x7e]+$/.test(text) && !/^nil$/i.test(text)) return text;
  return strText(text);
}

/** A parenthesized list of already encoded items. */
export function list(items: readonly string[]): string {
  return `(${items.join(' ')})`;
}
