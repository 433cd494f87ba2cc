export type { EnvelopeAddress } from './address.js';
export { Base64Decoder, decodeBody, decodeCharset, decodeWords, knownEncoding, QpDecoder } from './decode.js';
export { findHeaderEnd, type HeaderField, headerValue, parseHeaderFields } from './headers.js';
export { renderBodyStructure, renderEnvelope } from './render.js';
export { filterHeader, locateSection, type SectionSource, sectionName } from './section.js';
export { type Envelope, findPart, type MimePart, parseMessage } from './tree.js';
