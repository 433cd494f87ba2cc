import type { Reply } from '../reply.js';
import type { Connection } from './connection.js';
import { SmtpClientError } from './errors.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * AUTH PLAIN, or LOGIN when PLAIN is not offered (RFC 4954). Every failure is temporary, as with Postfix's
 * smtp_sasl_auth_soft_bounce: a rejected password is a configuration problem, and bouncing mail over it loses it.
 */
export async function authenticate(
  conn: Connection,
  ext: Map<string, string>,
  auth: { user: string; pass: string },
  overTls: boolean,
  timeout: number,
): Promise<void> {
  if (!overTls) throw new SmtpClientError('auth', 'refusing to send credentials without TLS', null, true);
  const mechanisms = (ext.get('AUTH') ?? '').toUpperCase().split(/\s+/);
  const step = async (line: string): Promise<Reply> => {
    conn.write(`${line}\r\n`, 1);
    return conn.read('auth', timeout, 'reply to AUTH');
  };
  let r: Reply;
  if (mechanisms.includes('PLAIN')) {
    r = await step(`AUTH PLAIN ${b64(`\0${auth.user}\0${auth.pass}`)}`);
  } else if (mechanisms.includes('LOGIN')) {
    r = await step('AUTH LOGIN');
    if (r.code === 334) r = await step(b64(auth.user));
    if (r.code === 334) r = await step(b64(auth.pass));
  } else {
    throw new SmtpClientError('auth', 'server offers neither AUTH PLAIN nor AUTH LOGIN', null, true);
  }
  if (r.code !== 235) throw new SmtpClientError('auth', 'authentication failed', r, true);
}
