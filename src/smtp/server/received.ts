/** Facts that go into our Received: header. */
export interface ReceivedInfo {
  helo: string | null;
  /** Null hides the client's address (authenticated submissions, by default). */
  clientIp: string | null;
  clientHost: string | null;
  hostname: string;
  protocol: string;
  queueId: string;
  tls: { version: string; cipher: string } | null;
  recipient: string | null;
  /** The authenticated user, when the config asks to show it. */
  authenticatedAs?: string | null;
  date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC, e.g. `Mon, 23 Nov 2026 16:00:00 +0000`. */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(
    d.getUTCHours(),
  )}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * RFC 5321 4.4 trace header with RFC 3848/6531 protocol names. Folded so no line passes 78
 * characters in the common case; ends with CRLF.
 */
export function receivedHeader(info: ReceivedInfo): string {
  const helo = sanitize(info.helo ?? 'unknown');
  let from = `from ${helo}`;
  if (info.clientIp !== null) {
    const v4 = info.clientIp.replace(/^::ffff:/i, '');
    const ip = v4.includes(':') ? `IPv6:${v4}` : v4;
    from += ` (${info.clientHost ? `${sanitize(info.clientHost)} ` : ''}[${ip}])`;
  }
  const lines = [`Received: ${from}`, `\tby ${info.hostname} (mailroom) with ${info.protocol} id ${info.queueId}`];
  if (info.tls) lines.push(`\t(version=${info.tls.version} cipher=${info.tls.cipher})`);
  if (info.authenticatedAs) lines.push(`\t(authenticated as ${sanitize(info.authenticatedAs)})`);
  const forPart = info.recipient ? `for <${sanitize(info.recipient)}>; ` : '';
  lines.push(`\t${forPart}${rfc5322Date(info.date)}`);
  return `${lines.join('\r\n')}\r\n`;
}

/** Client-supplied text must not break the header: keep it to one line of visible characters. */
function sanitize(s: string): string {
  return s.replace(/[\x00-\x20\x7f()<>;\\"]/g, '_').slice(0, 255);
}

/** The `with` protocol keyword: SMTP, ESMTP plus S (TLS) and A (auth); UTF8SMTP for SMTPUTF8. */
export function protocolName(opts: { ehlo: boolean; tls: boolean; auth: boolean; utf8: boolean }): string {
  if (!opts.ehlo) return 'SMTP';
  return `${opts.utf8 ? 'UTF8SMTP' : 'ESMTP'}${opts.tls ? 'S' : ''}${opts.auth ? 'A' : ''}`;
}
