import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/smtp/client/index.js';
import { waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';
import { connect, envelope, message } from './helpers.js';

// Postfix's smtp-sink as an independent peer; its flags switch extensions off one by one.
const SINK = '/usr/sbin/smtp-sink';
const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

interface Sink {
  port: number;
  /** Dumped transactions (smtp-sink's X- headers, then the message), LF line ends. */
  dumps(count: number): Promise<string[]>;
}

async function startSink(flags: string[] = []): Promise<Sink> {
  const dir = tempDir('mailroom-sink-');
  fs.chmodSync(dir, 0o777); // smtp-sink writes as nobody
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(SINK, [...user, '-d', `${dir}/`, ...flags, `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
  running.push(child);
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    'smtp-sink to listen',
  );
  return {
    port,
    dumps: (count) =>
      waitFor(() => {
        const files = fs.readdirSync(dir);
        return files.length >= count && files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
      }, `${count} dump file(s)`),
  };
}

describe.skipIf(!fs.existsSync(SINK))('against Postfix smtp-sink', () => {
  it('pipelines a transaction with DSN parameters; the body arrives unstuffed', async () => {
    const sink = await startSink();
    const c = await connect(sink.port, { tls: 'opportunistic' });
    expect(c.tls).toBeNull(); // smtp-sink has no STARTTLS
    expect(c.extensions.has('PIPELINING')).toBe(true);
    expect(c.maxSize).toBeNull();
    const msg = message('.hidden dot\r\n..two dots');
    const r = await c.send(
      {
        ...envelope(['a@sink.test', 'b@sink.test'], msg),
        recipients: [
          { address: 'a@sink.test', notify: ['FAILURE'], orcpt: 'rfc822;a+x@sink.test' },
          { address: 'b@sink.test', notify: ['NEVER'] },
        ],
        dsn: { ret: 'FULL', envid: 'Q123' },
      },
      msg,
    );
    expect(r.mail).toEqual({ code: 250, enhanced: '2.1.0', lines: ['Ok'] });
    expect(r.recipients.map((x) => x.reply.code)).toEqual([250, 250]);
    expect(r.data).toMatchObject({ code: 250, enhanced: '2.0.0' });
    const [dump] = await sink.dumps(1);
    expect(dump).toContain('X-Mail-Args: <sender@client.test> RET=FULL ENVID=Q123\n');
    expect(dump).toContain('X-Rcpt-Args: <a@sink.test> NOTIFY=FAILURE ORCPT=rfc822;a+2Bx@sink.test\n');
    expect(dump).toContain('X-Rcpt-Args: <b@sink.test> NOTIFY=NEVER\n');
    expect(dump).toContain('\n\n.hidden dot\n..two dots\n');
    await c.quit();
  });

  it('carries several messages over one connection, with RSET and usable in between', async () => {
    const sink = await startSink();
    const c = await connect(sink.port);
    for (let i = 0; i < 3; i++) {
      const msg = message(`message ${i}`, `n${i}`);
      expect((await c.send(envelope([`r${i}@sink.test`], msg), msg)).data?.code).toBe(250);
      expect(c.usable).toBe(true);
      expect(await c.rset()).toMatchObject({ code: 250 });
    }
    await c.quit();
    const dumps = await sink.dumps(3);
    expect(dumps.map((d) => /Subject: (n\d)/.exec(d)?.[1]).sort()).toEqual(['n0', 'n1', 'n2']);
  });

  it('works lock-step when PIPELINING is not offered (-p)', async () => {
    const sink = await startSink(['-p']);
    const c = await connect(sink.port);
    expect(c.extensions.has('PIPELINING')).toBe(false);
    const msg = message();
    const r = await c.send(envelope(['a@sink.test', 'b@sink.test'], msg), msg);
    expect(r.data?.code).toBe(250);
    expect(await sink.dumps(1)).toHaveLength(1);
    await c.quit();
  });

  it('falls back to HELO when ESMTP is off (-e); enhanced codes are read even when not announced', async () => {
    const sink = await startSink(['-e']);
    const c = await connect(sink.port);
    expect(c.esmtp).toBe(false);
    const msg = message();
    const r = await c.send(envelope(['a@sink.test'], msg), msg);
    expect(r.mail).toEqual({ code: 250, enhanced: '2.1.0', lines: ['Ok'] });
    expect(r.data?.code).toBe(250);
    await c.quit();
  });

  it('soft-rejected recipients (-r RCPT): 4xx each, no data, connection still usable', async () => {
    const sink = await startSink(['-r', 'RCPT']);
    const c = await connect(sink.port);
    const msg = message();
    const r = await c.send(envelope(['a@sink.test', 'b@sink.test'], msg), msg);
    expect(r.recipients.map((x) => [x.reply.code, x.reply.enhanced])).toEqual([
      [450, '4.3.0'],
      [450, '4.3.0'],
    ]);
    expect(r.data).toBeNull();
    expect(c.usable).toBe(true);
    await c.quit();
  });

  it('421 and disconnect at DATA (-Q DATA): the data reply is that 421 and the client is spent', async () => {
    const sink = await startSink(['-Q', 'DATA']);
    const c = await connect(sink.port);
    const msg = message();
    const r = await c.send(envelope(['a@sink.test'], msg), msg);
    expect(r.recipients[0]?.reply.code).toBe(250);
    expect(r.data?.code).toBe(421);
    expect(c.usable).toBe(false);
  });

  it('a hang-up after the final dot without a reply (-q .) is a temporary data error', async () => {
    const sink = await startSink(['-q', '.']);
    const c = await connect(sink.port);
    const msg = message();
    const err = await c.send(envelope(['a@sink.test'], msg), msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpClientError);
    expect(err).toMatchObject({ stage: 'data', temporary: true });
  });
});
