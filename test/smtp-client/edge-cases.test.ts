import { afterEach, describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/smtp/client/index.js';
import { esmtp, type FakeServer, fakeServer } from './fake-server.js';
import { connect, envelope, message } from './helpers.js';

// Scripted servers for behaviour a well-behaved peer will not show on demand.
let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const start = async (script: Parameters<typeof fakeServer>[0]) => {
  server = await fakeServer(script);
  return server;
};
const msg = message();

describe('session set-up', () => {
  it('falls back to HELO when EHLO is refused with 5xx, then works lock-step', async () => {
    const s = await start(esmtp({ ehlo: null }));
    const c = await connect(s.port);
    expect(c.esmtp).toBe(false);
    expect(c.extensions.size).toBe(0);
    const r = await c.send(envelope(['a@fake.test'], msg), msg);
    expect(r.data?.code).toBe(250);
    const sess = s.sessions[0]!;
    expect(sess.commands.slice(0, 5)).toEqual([
      'EHLO client.test',
      'HELO client.test',
      'MAIL FROM:<sender@client.test>',
      'RCPT TO:<a@fake.test>',
      'DATA',
    ]);
    expect(sess.pipelined).toBe(false);
    await c.quit();
  });

  it('reads multi-line greetings and replies, keeping the text after the enhanced code', async () => {
    const s = await start(
      esmtp({
        greeting: ['220-fake.test ESMTP', '220-no UCE', '220 ready'],
        on: (cmd) =>
          cmd.startsWith('RCPT TO:<gone')
            ? ['550-5.1.1 The account does not exist.', '550-5.1.1 Please check the address', '550 5.1.1 https://x']
            : undefined,
      }),
    );
    const c = await connect(s.port);
    expect(c.greeting).toEqual({ code: 220, enhanced: null, lines: ['fake.test ESMTP', 'no UCE', 'ready'] });
    const r = await c.send(envelope(['gone@fake.test', 'ok@fake.test'], msg), msg);
    expect(r.recipients[0]?.reply).toEqual({
      code: 550,
      enhanced: '5.1.1',
      lines: ['The account does not exist.', 'Please check the address', 'https://x'],
    });
    expect(r.recipients[1]?.reply.code).toBe(250);
    expect(r.data?.code).toBe(250);
    c.close();
  });

  it('a 554 greeting is a permanent error at stage greeting, and QUIT is still sent', async () => {
    const s = await start(esmtp({ greeting: ['554 5.7.1 go away'] }));
    const err = await connect(s.port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpClientError);
    expect(err).toMatchObject({ stage: 'greeting', temporary: false, reply: { code: 554, enhanced: '5.7.1' } });
    await expect.poll(() => s.sessions[0]?.commands).toEqual(['QUIT']);
  });

  it('a refused connection is a temporary connect error', async () => {
    const s = await start(esmtp());
    const port = s.port;
    await s.close();
    server = null;
    await expect(connect(port)).rejects.toMatchObject({ stage: 'connect', temporary: true });
  });

  it('a malformed reply is a temporary protocol error', async () => {
    const s = await start(async (sess) => sess.reply('220 ok', 'garbage'));
    await expect(connect(s.port)).rejects.toMatchObject({ stage: 'ehlo', temporary: true, message: /protocol error/ });
  });
});

describe('transactions', () => {
  it('pipelines MAIL, every RCPT and DATA in one group when PIPELINING is offered', async () => {
    const s = await start(esmtp());
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test', 'b@fake.test'], msg), msg);
    expect(r.data?.code).toBe(250);
    const sess = s.sessions[0]!;
    expect(sess.pipelined).toBe(true);
    expect(sess.messages[0]?.raw.equals(msg)).toBe(true);
    c.close();
  });

  it('goes lock-step without PIPELINING', async () => {
    const s = await start(esmtp({ ehlo: ['8BITMIME'] }));
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test', 'b@fake.test', 'c@fake.test'], msg), msg);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([250, 250, 250]);
    expect(s.sessions[0]?.pipelined).toBe(false);
    c.close();
  });

  it("452 on the 3rd RCPT is that recipient's reply; the rest go in a second transaction", async () => {
    let rcpts = 0;
    const s = await start(
      esmtp({
        on: (cmd) => {
          if (cmd.startsWith('MAIL')) rcpts = 0;
          if (cmd.startsWith('RCPT') && ++rcpts > 2) return ['452 4.5.3 Too many recipients'];
          return undefined;
        },
      }),
    );
    const c = await connect(s.port);
    const all = ['a@fake.test', 'b@fake.test', 'c@fake.test', 'd@fake.test'];
    const r = await c.send(envelope(all, msg), msg);
    expect(r.recipients.map((x) => [x.address, x.reply.code, x.reply.enhanced])).toEqual([
      ['a@fake.test', 250, '2.1.5'],
      ['b@fake.test', 250, '2.1.5'],
      ['c@fake.test', 452, '4.5.3'],
      ['d@fake.test', 452, '4.5.3'],
    ]);
    expect(r.data?.code).toBe(250);
    expect(c.usable).toBe(true);
    const rest = r.recipients.filter((x) => x.reply.code === 452).map((x) => x.address);
    const r2 = await c.send(envelope(rest, msg), msg);
    expect(r2.data?.code).toBe(250);
    expect(s.sessions[0]?.messages.map((m) => m.rcpts.length)).toEqual([2, 2]);
    c.close();
  });

  it('4xx at DATA is the data reply; RSET leaves the connection usable for the next message', async () => {
    let first = true;
    const s = await start(
      esmtp({
        on: (cmd) => {
          if (cmd === 'DATA' && first) {
            first = false;
            return ['451 4.3.0 Try again later'];
          }
          return undefined;
        },
      }),
    );
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test'], msg), msg);
    expect(r.recipients[0]?.reply.code).toBe(250);
    expect(r.data).toMatchObject({ code: 451, enhanced: '4.3.0' });
    expect(s.sessions[0]?.commands).toContain('RSET');
    expect(c.usable).toBe(true);
    expect((await c.send(envelope(['a@fake.test'], msg), msg)).data?.code).toBe(250);
    c.close();
  });

  it('a 5xx after the final dot is the data reply', async () => {
    const s = await start(esmtp({ ehlo: [], on: (cmd) => (cmd === '.' ? ['554 5.7.1 Spam'] : undefined) }));
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test'], msg), msg);
    expect(r.data).toMatchObject({ code: 554, enhanced: '5.7.1', lines: ['Spam'] });
    expect(c.usable).toBe(true);
    c.close();
  });

  it('no accepted recipient: the 503/554 to pipelined DATA is absorbed, data is null, RSET follows', async () => {
    const s = await start(
      esmtp({
        on: (cmd) => {
          if (cmd.startsWith('RCPT')) return ['550 5.1.1 User unknown'];
          if (cmd === 'DATA') return ['554 5.5.1 No valid recipients'];
          return undefined;
        },
      }),
    );
    const c = await connect(s.port);
    const r = await c.send(envelope(['x@fake.test', 'y@fake.test'], msg), msg);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([550, 550]);
    expect(r.data).toBeNull();
    expect(s.sessions[0]?.commands.slice(-1)).toEqual(['RSET']);
    expect(c.usable).toBe(true);
    c.close();
  });

  it("a refused MAIL is every recipient's reply", async () => {
    const s = await start(
      esmtp({
        on: (cmd) => {
          if (cmd.startsWith('MAIL')) return ['553 5.7.1 Sender rejected'];
          if (cmd.startsWith('RCPT') || cmd === 'DATA') return ['503 5.5.1 Bad sequence of commands'];
          return undefined;
        },
      }),
    );
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test', 'b@fake.test'], msg), msg);
    expect(r.mail.code).toBe(553);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([553, 553]);
    expect(r.data).toBeNull();
    expect(c.usable).toBe(true);
    c.close();
  });

  it('421 mid-envelope: later recipients and the data get the 421, and the client is spent', async () => {
    const s = await start(
      esmtp({
        ehlo: [],
        on: (cmd, sess) => {
          if (cmd.startsWith('RCPT TO:<b')) {
            sess.reply('421 4.3.2 Shutting down');
            return 'CLOSE';
          }
          return undefined;
        },
      }),
    );
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test', 'b@fake.test', 'c@fake.test'], msg), msg);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([250, 421, 421]);
    expect(r.data?.code).toBe(421);
    expect(c.usable).toBe(false);
  });

  it('a connection dropped mid-DATA is a temporary data error', async () => {
    const s = await start(
      esmtp({
        ehlo: [],
        on: async (cmd, sess) => {
          if (cmd !== 'DATA') return undefined;
          sess.reply('354 go ahead');
          await sess.bytes(1000);
          return 'CLOSE';
        },
      }),
    );
    const c = await connect(s.port);
    const big = message('x'.repeat(70).concat('\r\n').repeat(20_000));
    const err = await c.send(envelope(['a@fake.test'], big), big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpClientError);
    expect(err).toMatchObject({ stage: 'data', temporary: true });
    expect(c.usable).toBe(false);
  });

  it('times out waiting for the final reply (stage timeout, temporary) and drops the connection', async () => {
    const s = await start(esmtp({ on: (cmd) => (cmd === '.' ? 'SILENT' : undefined) }));
    const c = await connect(s.port, { timeouts: { data: 300 } });
    const started = Date.now();
    const err = await c.send(envelope(['a@fake.test'], msg), msg).catch((e: unknown) => e);
    expect(err).toMatchObject({ stage: 'timeout', temporary: true, message: /end of data/ });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(c.usable).toBe(false);
    await expect.poll(() => s.sessions[0]?.closed).toBe(true);
  });

  it('times out on a silent greeting', async () => {
    const s = await start(() => new Promise(() => {}));
    await expect(connect(s.port, { timeouts: { greeting: 200 } })).rejects.toMatchObject({
      stage: 'timeout',
      temporary: true,
    });
  });

  it('a reply nobody asked for (idle 421) makes the client unusable', async () => {
    const s = await start(esmtp());
    const c = await connect(s.port);
    await c.send(envelope(['a@fake.test'], msg), msg);
    expect(c.usable).toBe(true);
    s.sessions[0]?.reply('421 4.4.2 Idle timeout');
    await expect.poll(() => c.usable).toBe(false);
    await expect(c.send(envelope(['a@fake.test'], msg), msg)).rejects.toMatchObject({ temporary: true });
  });
});
