import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/index.js';
import { newMessage } from '../store/fixtures.js';
import { lines, runCli, workdir } from './helpers.js';

const BODY = 'From: Bob <bob@example.net>\r\nSubject: Lunch\r\n  tomorrow?\r\n\r\nAt noon.\r\n';

/** A working directory whose store has one message in alice's INBOX. */
async function seed(): Promise<string> {
  const cwd = workdir('dataDir: ./data\ndomains: [{ name: example.test }]\n');
  fs.mkdirSync(path.join(cwd, 'data'), { recursive: true });
  const store = new SqliteStore(path.join(cwd, 'data', 'mailroom.db'));
  await store.migrate();
  const user = await store.addUser('alice@example.test', '!');
  await store.commitMessages([
    {
      ...newMessage('MSG1', ['alice@example.test'], { blobRef: 'db:MSG1', size: BODY.length }),
      body: Buffer.from(BODY),
    },
  ]);
  const inbox = await store.ensureMailbox(user.id, 'INBOX');
  await store.appendMailboxMessage(inbox.id, { blobRef: 'db:MSG1', size: BODY.length, flags: [], internalDate: 1_000 });
  await store.close();
  return cwd;
}

describe('mailroom mailbox', () => {
  it('lists a user’s INBOX with From and the unfolded Subject, as a table and as JSON', async () => {
    const cwd = await seed();
    const table = await runCli(['mailbox', 'list', 'alice@example.test'], { cwd });
    expect(table.code).toBe(0);
    expect(lines(table.stdout)[0]).toMatch(/^UID\s+DATE\s+SIZE\s+FROM\s+SUBJECT$/);
    expect(lines(table.stdout)[1]).toMatch(/^1\s.*Bob <bob@example\.net>\s+Lunch tomorrow\?$/);
    const json = await runCli(['mailbox', 'list', 'alice@example.test', '--json'], { cwd });
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ uid: 1, from: 'Bob <bob@example.net>', subject: 'Lunch tomorrow?', size: BODY.length }),
    ]);
  });

  it('prints a message exactly as stored, and says what to do for a wrong UID or user', async () => {
    const cwd = await seed();
    const read = await runCli(['mailbox', 'read', 'alice@example.test', '1'], { cwd });
    expect(read.code).toBe(0);
    expect(read.stdout).toBe(BODY);
    const missing = await runCli(['mailbox', 'read', 'alice@example.test', '7'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no message with UID 7 in INBOX; see `mailroom mailbox list alice@example\.test`/);
    const nobody = await runCli(['mailbox', 'list', 'nobody@example.test'], { cwd });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no user nobody@example\.test/);
  });
});
