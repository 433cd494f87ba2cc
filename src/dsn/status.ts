import { field, hasNonAscii, oneLine, rfc5322Date } from './encode.js';
import type { DsnInput, DsnRecipient } from './types.js';

/** The machine-readable part: its media type and its text (fields CRLF-terminated, blocks blank-line separated). */
export interface StatusPart {
  contentType: 'message/delivery-status' | 'message/global-delivery-status';
  body: string;
}

/** The RFC 3464 delivery-status fields: per-message block, then one block per recipient. */
export function deliveryStatus(input: DsnInput): StatusPart {
  const perMessage = [
    input.envid === null ? '' : field('Original-Envelope-Id', input.envid),
    field('Reporting-MTA', `dns; ${input.reportingMta}`),
    field('X-Mailroom-Queue-ID', input.queueId),
    field('Arrival-Date', rfc5322Date(input.arrivalDate)),
  ].join('');
  const blocks = [perMessage, ...input.recipients.map(recipientBlock)];
  const body = blocks.join('\r\n');
  // Non-ASCII (an address, a UTF-8 reply, an ENVID) may appear unencoded only in the RFC 6533 type.
  const global = hasNonAscii(body);
  return { contentType: global ? 'message/global-delivery-status' : 'message/delivery-status', body };
}

function recipientBlock(r: DsnRecipient): string {
  let out = '';
  if (r.originalRecipient !== null) out += field('Original-Recipient', originalRecipient(r.originalRecipient));
  out += field('Final-Recipient', finalRecipient(r.finalRecipient));
  out += field('Action', r.action);
  out += field('Status', r.status);
  if (r.remoteMta !== null) out += field('Remote-MTA', `dns; ${r.remoteMta}`);
  if (r.diagnosticCode !== null) out += field('Diagnostic-Code', diagnostic(r.diagnosticCode));
  if (r.lastAttemptDate !== null) out += field('Last-Attempt-Date', rfc5322Date(r.lastAttemptDate));
  if (r.action === 'delayed' && r.willRetryUntil !== null) {
    out += field('Will-Retry-Until', rfc5322Date(r.willRetryUntil));
  }
  return out;
}

/** ORCPT goes back exactly as the client gave it (RFC 3461 4.2); only a missing type is supplied. */
function originalRecipient(stored: string): string {
  const v = oneLine(stored);
  return /^[A-Za-z0-9-]+;/.test(v) ? v : `rfc822;${v}`;
}

/** `rfc822; addr`, or `utf-8; addr` (RFC 6533) for a non-ASCII address. */
export function finalRecipient(address: string): string {
  if (!hasNonAscii(address)) return `rfc822; ${address}`;
  // The plain utf-8-address form reads best; a backslash could be misread as an EmbeddedUnicodeChar (`\x{..}`),
  // so such an address takes the escaped utf-8-addr-unitext form instead.
  if (!/[\\\x00-\x20\x7f]/.test(address)) return `utf-8; ${address}`;
  const hex = (c: string) => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  return `utf-8; ${address.replace(/[\\+=\x00-\x20\x7f]/g, (c) => `\\x{${hex(c)}}`)}`;
}

/** `smtp; reply` for an SMTP reply; our own reasons (no MX, a loop, a timeout) are not one, so they get X-Mailroom. */
function diagnostic(text: string): string {
  const v = oneLine(text);
  return /^[2-5]\d\d(?:[ -]|$)/.test(v) ? `smtp; ${v}` : `X-Mailroom; ${v}`;
}
