import http from 'node:http';
import https from 'node:https';
import { reply } from '../../smtp/reply.js';
import type { FailurePolicy, HeaderEdit, ScanInput, Scanner, ScanVerdict } from './types.js';

/** The parts of rspamd's `/checkv2` JSON answer that mailroom acts on. */
export interface RspamdResult {
  action: string;
  score: number;
  required: number;
  /** Symbol names that fired, sorted. */
  symbols: string[];
  /** A rewritten Subject: for `rewrite subject`. */
  subject: string | null;
  /** Headers rspamd's milter_headers module asks to add. */
  addHeaders: [string, string][];
  message: string | null;
}

/** rspamd answers are small JSON documents; a huge one is refused rather than buffered. */
const MAX_RESPONSE = 4 * 1024 * 1024;

/** Parse the `/checkv2` JSON body; throws on anything that is not an rspamd result. */
export function parseRspamdResponse(text: string): RspamdResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('rspamd: answer is not JSON');
  }
  if (typeof json !== 'object' || json === null) throw new Error('rspamd: answer is not an object');
  const o = json as Record<string, unknown>;
  if (typeof o.error === 'string') throw new Error(`rspamd: ${o.error}`);
  if (typeof o.action !== 'string') throw new Error('rspamd: answer has no action');
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const symbols = typeof o.symbols === 'object' && o.symbols !== null ? Object.keys(o.symbols).sort() : [];
  const messages = (o.messages ?? {}) as Record<string, unknown>;
  return {
    action: o.action,
    score: num(o.score),
    required: num(o.required_score),
    symbols,
    subject: typeof o.subject === 'string' ? o.subject : null,
    addHeaders: milterHeaders(o.milter),
    message: typeof messages.smtp_message === 'string' ? messages.smtp_message : null,
  };
}

/** `milter.add_headers`: `{ name: value }` or `{ name: { value, order } }` or a list of those. */
function milterHeaders(milter: unknown): [string, string][] {
  const add = (milter as { add_headers?: unknown } | null | undefined)?.add_headers;
  if (typeof add !== 'object' || add === null) return [];
  const out: [string, string][] = [];
  for (const [name, v] of Object.entries(add)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      const value = typeof item === 'string' ? item : (item as { value?: unknown } | null)?.value;
      if (typeof value === 'string' && /^[\x21-\x39\x3b-\x7e]+$/.test(name)) out.push([name, value]);
    }
  }
  return out;
}

/** Turn rspamd's result into a verdict: its action decides, and X-Spam-* headers carry the score. */
export function rspamdVerdict(r: RspamdResult): ScanVerdict {
  const score = r.score.toFixed(2);
  const spam = r.action !== 'no action' && r.action !== 'greylist';
  const headers: [string, string][] = [
    ['X-Spam-Status', `${spam ? 'Yes' : 'No'}, score=${score} required=${r.required.toFixed(2)}`],
    ['X-Spam-Score', score],
    ['X-Spam-Action', r.action],
  ];
  if (r.symbols.length > 0) headers.push(['X-Spam-Symbols', r.symbols.join(', ')]);
  if (spam) headers.push(['X-Spam-Flag', 'YES']);
  headers.push(...r.addHeaders);
  const reason = `rspamd: ${r.action} (score ${score})`;
  switch (r.action) {
    case 'reject':
      return { action: 'reject', reply: reply(554, '5.7.1', 'Message rejected as spam'), headers, reason };
    case 'soft reject':
      return { action: 'tempfail', reply: reply(451, '4.7.1', 'Try again later'), headers, reason };
    case 'greylist':
      return { action: 'tempfail', reply: reply(451, '4.7.1', 'Greylisted, try again later'), headers, reason };
    case 'rewrite subject': {
      const edits: HeaderEdit[] = r.subject
        ? [{ op: 'change', index: 1, name: 'Subject', value: ` ${r.subject}` }]
        : [];
      return { action: 'accept', headers, edits, reason };
    }
    default:
      // `no action`, `add header`, and actions a newer rspamd may invent: deliver, tagged.
      return { action: 'accept', headers, reason };
  }
}

/** The envelope as rspamd's HTTP protocol headers (non-ASCII addresses sent as raw UTF-8). */
export function rspamdHeaders(input: ScanInput): Record<string, string | string[]> {
  const raw = (s: string) => Buffer.from(s.replace(/[\r\n]/g, ''), 'utf8').toString('latin1');
  const h: Record<string, string | string[]> = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(input.message.length),
    IP: input.client.ip,
    From: raw(input.mailFrom),
    Rcpt: input.recipients.map(raw),
    Hostname: 'unknown',
    'Queue-Id': input.queueId,
    'MTA-Name': raw(input.hostname),
  };
  if (input.client.helo) h.Helo = raw(input.client.helo);
  if (input.user) h.User = raw(input.user);
  if (input.client.tls) h['TLS-Version'] = raw(input.client.tls);
  return h;
}

/** rspamd over its HTTP protocol: POST the message to `/checkv2`, act on the action. */
export class RspamdScanner implements Scanner {
  readonly name = 'rspamd';
  private readonly url: URL;

  constructor(
    url: string,
    readonly timeout: number,
    readonly failure: FailurePolicy,
  ) {
    this.url = new URL('checkv2', url.endsWith('/') ? url : `${url}/`);
  }

  /** Scan one message. */
  async scan(input: ScanInput, signal: AbortSignal): Promise<ScanVerdict> {
    return rspamdVerdict(parseRspamdResponse(await this.post(input, signal)));
  }

  private post(input: ScanInput, signal: AbortSignal): Promise<string> {
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(this.url, { method: 'POST', headers: rspamdHeaders(input), signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE) {
            req.destroy(new Error('rspamd: answer too large'));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`rspamd: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
            return;
          }
          resolve(text);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(input.message);
    });
  }
}
