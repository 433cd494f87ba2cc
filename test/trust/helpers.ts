import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { findBinary, shebangOf } from '../dkim/verifiers.js';
import type { TestRecord } from '../helpers/dns-server.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/server.js';
import type { RawSmtp, ServerReply } from '../helpers/smtp-client.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');

/** The python that has Debian's dkim module (dkimverify's interpreter), or null when python3-dkim is missing. */
export const dkimPython: string | null = (() => {
  const dkimverify = findBinary('dkimverify');
  return dkimverify ? shebangOf(dkimverify) : null;
})();

/** Whether that python also has authres (Debian python3-authres), which dkimpy's ARC code needs. */
export const arcPython: boolean = dkimPython !== null && spawnSync(dkimPython, ['-c', 'import authres']).status === 0;

/** An RSA signing key: a PKCS#1 PEM file for dkimpy and the DNS record publishing it. */
export interface TestKey {
  domain: string;
  selector: string;
  file: string;
  pem: string;
  /** `selector._domainkey.domain` → its TXT record. */
  dns: [string, TestRecord[]];
}

/** Make a 2048-bit RSA key for `selector._domainkey.domain`. */
export function makeRsaKey(domain: string, selector: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const file = path.join(tempDir('mailroom-trust-key-'), `${selector}.${domain}.pem`);
  fs.writeFileSync(file, pem);
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    domain,
    selector,
    file,
    pem,
    dns: [`${selector}._domainkey.${domain}`, [{ type: 'TXT', data: `v=DKIM1; k=rsa; p=${p}` }]],
  };
}

/** DKIM-sign with dkimpy (relaxed/relaxed, rsa-sha256). */
export async function dkimpySign(message: string, key: TestKey): Promise<string> {
  const r = await run(
    [dkimPython as string, path.join(fixtures, 'dkimpy-sign.py'), 'dkim', key.domain, key.selector, key.file],
    message,
  );
  if (r.code !== 0) throw new Error(`dkimpy sign failed: ${r.stderr}`);
  return r.stdout;
}

/** Add an ARC set with dkimpy, as a forwarder named `srvId` would (keys looked up on `dns`). */
export async function dkimpyArcSeal(message: string, key: TestKey, srvId: string, dns: string): Promise<string> {
  const script = path.join(fixtures, 'dkimpy-sign.py');
  const r = await run([dkimPython as string, script, 'arc', key.domain, key.selector, key.file, srvId, dns], message);
  if (r.code !== 0) throw new Error(`dkimpy arc failed: ${r.stderr}`);
  return r.stdout;
}

/** Verify a message's ARC chain with dkimpy. */
export async function dkimpyArcVerify(message: Buffer | string, dns: string): Promise<{ ok: boolean; out: string }> {
  const r = await run([dkimPython as string, path.join(fixtures, 'dkimpy-arc-verify.py'), dns], message);
  return { ok: r.code === 0, out: `${r.stdout}${r.stderr}` };
}

/** A small message with CRLF line ends. */
export function message(from: string, to: string, subject: string, body = 'Hello.\r\n'): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    'Date: Wed, 02 Dec 2026 12:00:00 +0000',
    `Message-ID: <${subject.replace(/\W+/g, '-')}@${from.split('@')[1]}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    body,
  ].join('\r\n');
}

/** One transaction with exact bytes (dot-stuffed here); returns every reply. */
export async function transact(
  c: RawSmtp,
  from: string,
  rcpts: string[],
  data: string,
): Promise<{ mail: ServerReply; rcpts: ServerReply[]; end: ServerReply | null }> {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  if (mail.code !== 250) return { mail, rcpts: [], end: null };
  const rs: ServerReply[] = [];
  for (const r of rcpts) rs.push(await c.cmd(`RCPT TO:<${r}>`));
  if (!rs.some((r) => r.code === 250)) {
    await c.cmd('RSET');
    return { mail, rcpts: rs, end: null };
  }
  const d = await c.cmd('DATA');
  if (d.code !== 354) return { mail, rcpts: rs, end: d };
  const body = data.endsWith('\r\n') ? data : `${data}\r\n`;
  c.write(`${body.replace(/(^|\r\n)\./g, '$1..')}.\r\n`);
  return { mail, rcpts: rs, end: await c.read() };
}

/** The unfolded value of every header field named `name` in a message's header section. */
export function headerValues(msg: Buffer | string, name: string): string[] {
  const text = msg.toString();
  const head = text.slice(0, text.indexOf('\r\n\r\n') + 2).replace(/\r\n[ \t]+/g, ' ');
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'gim');
  return [...head.matchAll(re)].map((m) => (m[1] ?? '').trim());
}
