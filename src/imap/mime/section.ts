import type { Section } from '../parser/fetch.js';
import { splitFieldLines } from './headers.js';
import { findPart, type MimePart } from './tree.js';

/**
 * What a BODY[section] names: a byte range of the stored message (streamed from the store), or
 * bytes made here (filtered header fields). `header` asks the caller to read `start..end` and
 * filter it with filterHeader().
 */
export type SectionSource =
  | { kind: 'range'; start: number; end: number }
  | { kind: 'fields'; start: number; end: number; fields: string[]; not: boolean }
  | { kind: 'empty' };

/** Locate a section in a message's part tree. */
export function locateSection(root: MimePart, section: Section, size: number): SectionSource {
  const part = findPart(root, section.part);
  if (!part) return { kind: 'empty' };
  if (section.part.length === 0) {
    if (section.kind === 'full') return { kind: 'range', start: 0, end: size };
    return messageSection(root, section);
  }
  switch (section.kind) {
    case 'full':
      return { kind: 'range', start: part.bodyStart, end: part.end };
    case 'MIME':
      return { kind: 'range', start: part.headerStart, end: part.bodyStart };
    default:
      // HEADER/TEXT after a part number refer to the message inside a message/rfc822 part.
      return part.message ? messageSection(part.message, section) : { kind: 'empty' };
  }
}

function messageSection(msg: MimePart, section: Section): SectionSource {
  switch (section.kind) {
    case 'HEADER':
      return { kind: 'range', start: msg.headerStart, end: msg.bodyStart };
    case 'TEXT':
      return { kind: 'range', start: msg.bodyStart, end: msg.end };
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return {
        kind: 'fields',
        start: msg.headerStart,
        end: msg.bodyStart,
        fields: section.fields ?? [],
        not: section.kind === 'HEADER.FIELDS.NOT',
      };
    default:
      return { kind: 'range', start: msg.headerStart, end: msg.end };
  }
}

/** The header fields named (or, with `not`, all others), each as written, then an empty line. */
export function filterHeader(header: Buffer, fields: readonly string[], not: boolean): Buffer {
  const wanted = new Set(fields.map((f) => f.toUpperCase()));
  const kept = splitFieldLines(header.toString('latin1')).filter((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return false;
    const name = line.slice(0, colon).trim().toUpperCase();
    return wanted.has(name) !== not;
  });
  return Buffer.from(`${kept.map((l) => (l.endsWith('\n') ? l : `${l}\r\n`)).join('')}\r\n`, 'latin1');
}

/** The section name as echoed in the FETCH response, e.g. `1.2.HEADER.FIELDS (FROM TO)`. */
export function sectionName(section: Section): string {
  const part = section.part.join('.');
  if (section.kind === 'full') return part;
  let name: string = section.kind;
  if (section.fields) name += ` (${section.fields.map(fieldName).join(' ')})`;
  return part ? `${part}.${name}` : name;
}

function fieldName(f: string): string {
  return /^[\x21-\x7e]+$/.test(f) && !/[(){%*"\\\]]/.test(f) ? f : `"${f.replace(/[\\"]/g, '\\$&')}"`;
}
