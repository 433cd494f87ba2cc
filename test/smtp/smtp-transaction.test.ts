import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => t.stop());

describe('a plain SMTP transaction', () => {
  it('accepts a message for a local user and delivers it into the INBOX', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      C: EHLO client.example
      S: 250-mx.test greets client.example
      S: 250-PIPELINING
      S: 250-SIZE 26214400
      S: 250-8BITMIME
      S: 250-SMTPUTF8
      S: 250-ENHANCEDSTATUSCODES
      S: 250-CHUNKING
      S: 250-BINARYMIME
      S: 250-DSN
      S: 250-STARTTLS
      S: 250 HELP
      C: MAIL FROM:<bob@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<Alice@EXAMPLE.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: hello
      C:
      C: ..leading dot
      C: .
      S: 250 2.0.0 Ok: queued as *
      C: QUIT
      S: 221 2.0.0 Bye
      `,
    );
    await c.waitClosed();
    const { store, blobs } = t.server.resources;
    const user = await store.getUser('alice@example.test');
    expect(user).not.toBeNull();
    let messages: Awaited<ReturnType<typeof store.listMailboxMessages>> = [];
    for (let i = 0; i < 50 && messages.length === 0; i++) {
      const inbox = await store.getMailbox(user!.id, 'INBOX');
      messages = inbox ? await store.listMailboxMessages(inbox.id) : [];
      if (messages.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(messages).toHaveLength(1);
    const body = (await blobs.read(messages[0]!.blobRef)).toString();
    expect(body).toMatch(
      /^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(mailroom\) with ESMTP id /,
    );
    expect(body).toContain('\r\n\tfor <Alice@example.test>; ');
    expect(body.endsWith('Subject: hello\r\n\r\n.leading dot\r\n')).toBe(true);
  });
});
