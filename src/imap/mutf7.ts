/**
 * Modified UTF-7 for mailbox names (RFC 3501 5.1.3): printable ASCII as itself ('&' as '&-'),
 * everything else as '&' + base64 of UTF-16BE with ',' for '/' + '-'.
 */
export function encodeMailboxName(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? '&-' : name[i];
      i++;
      continue;
    }
    let j = i;
    while (j < name.length && (name.charCodeAt(j) < 0x20 || name.charCodeAt(j) > 0x7e)) j++;
    const units = Buffer.alloc((j - i) * 2);
    for (let k = i; k < j; k++) units.writeUInt16BE(name.charCodeAt(k), (k - i) * 2);
    out += `&${units.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    i = j;
  }
  return out;
}

/** Decode a modified UTF-7 mailbox name; null when it is not valid modified UTF-7. */
export function decodeMailboxName(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return null;
    if (c !== '&') {
      out += c;
      i++;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end === -1) return null;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    const b64 = text.slice(i + 1, end);
    if (!/^[A-Za-z0-9+,]+$/.test(b64)) return null;
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) return null;
    let chunk = '';
    for (let k = 0; k < bytes.length; k += 2) chunk += String.fromCharCode(bytes.readUInt16BE(k));
    // A shifted run must hold something that needed shifting.
    if (/^[\x20-\x7e]*$/.test(chunk)) return null;
    out += chunk;
    i = end + 1;
  }
  return out;
}
