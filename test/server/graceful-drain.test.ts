import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

describe('graceful shutdown', () => {
  it('finishes the transaction in flight, answers 421 to new and idle connections, then stops', async () => {
    const t = await startTestServer();
    const port = t.port('smtp');
    await t.server.resources.store.addUser('alice@example.test', '!');

    const idle = await RawSmtp.connect(port);
    await idle.read();
    const busy = await RawSmtp.connect(port);
    await busy.read();
    await busy.cmd('EHLO drain.test');
    await busy.cmd('MAIL FROM:<a@drain.test>');
    await busy.cmd('RCPT TO:<alice@example.test>');
    expect((await busy.cmd('DATA')).code).toBe(354);
    busy.write('Subject: in flight\r\n\r\nfirst half\r\n');

    const stopped = t.stop();
    // The idle connection is told at once.
    expect((await idle.read()).raw).toMatch(/^421 4\.3\.2 /);
    await idle.waitClosed();
    // A new connection is refused with 421 while the drain runs.
    const late = await RawSmtp.connect(port);
    expect((await late.read()).raw).toMatch(/^421 4\.3\.2 /);
    late.close();

    // The message in flight completes and is accepted, then the connection is closed.
    busy.write('second half\r\n.\r\n');
    expect((await busy.read()).raw).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect((await busy.read()).raw).toMatch(/^421 4\.3\.2 /);
    await busy.waitClosed();
    await stopped;
  });
});
