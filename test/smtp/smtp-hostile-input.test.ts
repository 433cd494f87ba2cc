import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox, recordEvents, retainedMemory, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// What bots, fuzzers and broken clients send: the server answers in step and never stores a bad message.
let t: TestServer;
let delayed: TestServer;

beforeAll(async () => {
  [t, delayed] = await Promise.all([
    startTestServer(),
    startTestServer({ smtp: { greetDelay: 300 }, limits: { commandTimeout: 500 } }),
  ]);
  await t.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => Promise.all([t.stop(), delayed.stop()]));

/** Temp files of blobs being written (`.ID.tmp`) anywhere under the blob store. */
function tempBlobs(): string[] {
  const root = path.join(t.dataDir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
}

describe('talking before the greeting', () => {
  it('an early talker gets 554 5.5.0 instead of a greeting and is disconnected', async () => {
    const c = await RawSmtp.connect(delayed.port('smtp'));
    c.write('EHLO bot.example\r\nMAIL FROM:<spam@bot.example>\r\n');
    expect((await c.read()).raw).toBe('554 5.5.0 Protocol error: talking before the greeting\r\n');
    await c.waitClosed();
    expect(c.pending).toBe('');
  });

  it('a flood before the greeting is not kept in memory and ends in a clean close', async () => {
    // Measured first: a full collection can take longer than greetDelay on a busy machine.
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    const before = retainedMemory();
    let peak = before;
    const c = await RawSmtp.connect(delayed.port('smtp'));
    const errors: string[] = [];
    c.socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
    // Stream until the server hangs up (at the end of greetDelay), or 64 MB, whichever comes first.
    for (let i = 1; i <= 64 && !c.closed && !c.pending; i++) {
      if (!c.socket.write(chunk)) {
        await new Promise((r) => {
          c.socket.once('drain', r);
          c.socket.once('close', r);
        });
      }
      peak = Math.max(peak, retainedMemory());
    }
    // Nothing of it is kept (the server reads at most a byte, then stops reading until it hangs up).
    expect(peak - before).toBeLessThan(2 * 1024 * 1024);
    expect((await c.read()).raw).toBe('554 5.5.0 Protocol error: talking before the greeting\r\n');
    await c.waitClosed();
    // A clean close: the server drained our last writes after answering instead of resetting the connection.
    expect(errors).toEqual([]);
  });

  it('a client that waits gets the greeting after greetDelay', async () => {
    const started = Date.now();
    const c = await runDialog(delayed.port('smtp'), 'C: NOOP\nS: 250 2.0.0 Ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    c.close();
  });
});

describe('hostile commands', () => {
  it('a NUL in a command is 500 5.5.2, control characters are 501, and the session goes on', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C> EHLO client\\0.example\\r\\n
        S: 500 5.5.2 *
        C> NO\\0OP\\r\\n
        S: 500 5.5.2 *
        C> \\0\\r\\n
        S: 500 5.5.2 *
        C> HELO a\\rb\\r\\n
        S: 501 5.5.4 *
        C> HELO a\\x1bb\\r\\n
        S: 501 5.5.4 *
        C: HELO client.example
        S: 250 mx.test
        C> MAIL FROM:<a\\x07@elsewhere.test>\\r\\n
        S: 501 5.5.4 *
        C: NOOP
        S: 250 2.0.0 Ok
        `,
      )
    ).close();
  });

  it('binary noise, empty lines and a TLS hello on the plain port are refused line by line', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0a]));
    c.write('\r\n\r\n\xff\xfe\r\n');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await c.read()).code);
    expect(codes).toEqual([500, 500, 500, 500]);
    expect((await c.cmd('NOOP')).code).toBe(250);
    c.close();
  });

  it('invalid UTF-8 in an address is refused even with SMTPUTF8; the reply never echoes the input', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    await c.cmd('EHLO client.example');
    c.write(
      Buffer.concat([Buffer.from('MAIL FROM:<a'), Buffer.from([0xc3, 0x28]), Buffer.from('@x.test> SMTPUTF8\r\n')]),
    );
    expect((await c.read()).code).toBe(501);
    const r = await c.cmd('XYZZY\r\n250 fake reply');
    expect(r.raw).toBe('500 5.5.2 Command not recognized\r\n');
    expect((await c.read()).raw).toBe('500 5.5.2 Command not recognized\r\n');
    expect(c.pending).toBe('');
    c.close();
  });

  it('a client that sends commands but never reads the replies cannot make them pile up', async () => {
    const flood = Buffer.from('HELP\r\n'.repeat(50_000)); // 300 kB in, 7 MB of replies out
    // Measured before connecting: a full collection can outlast the 500 ms idle timeout on a busy machine.
    const before = retainedMemory();
    let peak = before;
    const c = await RawSmtp.connect(delayed.port('smtp'));
    await c.read();
    c.socket.pause(); // from now on nothing is read
    let sent = 0;
    // The server stops reading once its replies back up, so our writes stall; the idle timeout ends it.
    while (!c.closed && sent < 64 * flood.length) {
      sent += flood.length;
      if (!c.socket.write(flood)) {
        // Measured only while the server is not reading: a collection pauses the whole process, and a pause
        // while the server sits idle could look like an idle client to its timer.
        peak = Math.max(peak, retainedMemory());
        await new Promise((r) => {
          c.socket.once('drain', r);
          c.socket.once('close', r);
        });
      }
    }
    expect(c.closed).toBe(true);
    // What got out before the stall is socket buffering (a few MB each way), not what the server keeps.
    expect(sent).toBeLessThan(48 * flood.length);
    expect(peak - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('an over-long HELO name is cut in the EHLO reply', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    const r = await c.cmd(`EHLO ${'h'.repeat(400)}`);
    expect(r.lines[0]).toBe(`mx.test greets ${'h'.repeat(255)}`);
    c.close();
  });
});

describe('hostile message bodies', () => {
  it('a NUL in DATA is 554 5.6.0 after the dot; nothing is stored and the session goes on', async () => {
    const events = recordEvents(t);
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C> Subject: nul\\r\\n\\r\\nbefore\\0after\\r\\n.\\r\\n
      S: 554 5.6.0 Message contains NUL characters
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: clean
      C: .
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    const [stored] = await inbox(t, 'alice@example.test');
    expect(stored!.toString()).toContain('Subject: clean');
    expect(events.of('received')).toHaveLength(1);
    expect(events.of('rejected')).toHaveLength(1);
    events.stop();
  });

  it('a client that hangs up in the middle of DATA leaves nothing behind', async () => {
    const events = recordEvents(t);
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd('RCPT TO:<alice@example.test>');
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(`Subject: cut\r\n\r\n${'x'.repeat(300_000)}`);
    c.socket.end();
    await c.waitClosed();
    // The half-written body spilled to a temp blob; it goes away with the session, file handle and all.
    await waitFor(() => tempBlobs().length === 0, `no temp blobs left; have ${tempBlobs().join(', ')}`);
    const d = await RawSmtp.connect(t.port('smtp'));
    expect((await d.read()).code).toBe(220);
    d.close();
    expect(events.of('received')).toHaveLength(0);
    expect(tempBlobs()).toEqual([]);
    events.stop();
  });
});
