import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, RawImap, startImapServer } from './helpers.js';

let t: TestServer;
let c: RawImap;

beforeAll(async () => {
  t = await startImapServer({ mailbox: { quota: '1MB' } });
  ({ c } = await RawImap.connect(imapPort(t)));
  await login(c);
});
afterAll(async () => {
  c.close();
  await t.stop();
});

const ok = (lines: string[]) => expect(lines.at(-1)).toMatch(/^t\d+ OK /);

describe('IMAP mailbox commands', () => {
  it('creates, renames, lists with RETURN options and deletes mailboxes (modified UTF-7 names)', async () => {
    ok(await c.cmd('CREATE "Projects/Entw&APw-rfe"'));
    expect((await c.cmd('CREATE Projects')).at(-1)).toMatch(/NO \[ALREADYEXISTS\]/);
    const list = await c.cmd('LIST "" "Projects*" RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES UIDNEXT))');
    expect(list).toEqual([
      '* LIST (\\HasChildren) "/" Projects',
      '* STATUS Projects (MESSAGES 0 UIDNEXT 1)',
      '* LIST (\\HasNoChildren) "/" Projects/Entw&APw-rfe',
      '* STATUS Projects/Entw&APw-rfe (MESSAGES 0 UIDNEXT 1)',
      expect.stringMatching(/OK List completed/),
    ]);
    expect(await c.cmd('LIST "" %')).toContain('* LIST (\\HasChildren) "/" Projects');
    ok(await c.cmd('RENAME Projects Work'));
    expect(await c.cmd('LIST "Work/" %')).toEqual([
      '* LIST (\\HasNoChildren) "/" Work/Entw&APw-rfe',
      expect.stringMatching(/OK/),
    ]);
    ok(await c.cmd('SUBSCRIBE Work'));
    expect((await c.cmd('LSUB "" W*'))[0]).toBe('* LSUB () "/" Work');
    expect(await c.cmd('LIST (SUBSCRIBED) "" "*"')).toContain('* LIST (\\HasChildren \\Subscribed) "/" Work');
    expect(await c.cmd('LIST (SPECIAL-USE) "" "*"')).toEqual([
      '* LIST (\\HasNoChildren \\Archive) "/" Archive',
      '* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash',
      expect.stringMatching(/OK/),
    ]);
    ok(await c.cmd('DELETE Work/Entw&APw-rfe'));
    expect((await c.cmd('DELETE INBOX')).at(-1)).toMatch(/NO \[CANNOT\]/);
    expect((await c.cmd('SELECT Nowhere')).at(-1)).toMatch(/NO \[NONEXISTENT\]/);
    expect((await c.cmd('CREATE "bad&name"')).at(-1)).toMatch(/NO \[CANNOT\]/);
    expect(await c.cmd('LIST "" ""')).toEqual(['* LIST (\\Noselect) "/" ""', expect.stringMatching(/OK/)]);
    expect((await c.cmd('NAMESPACE'))[0]).toBe('* NAMESPACE (("" "/")) NIL NIL');
  });

  it('reports and enforces the quota on APPEND', async () => {
    expect(await c.cmd('GETQUOTAROOT INBOX')).toEqual([
      '* QUOTAROOT INBOX ""',
      '* QUOTA "" (STORAGE 0 1024)',
      expect.stringMatching(/OK/),
    ]);
    const big = `Subject: big\r\n\r\n${'x'.repeat(1_100_000)}\r\n`;
    const r = await c.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`);
    expect(r.at(-1)).toMatch(/NO \[OVERQUOTA\]/);
    const small = 'Subject: small\r\n\r\nhi\r\n';
    ok(await c.cmd(`APPEND INBOX {${small.length}+}\r\n${small}`));
    expect((await c.cmd('GETQUOTA ""'))[0]).toBe('* QUOTA "" (STORAGE 1 1024)');
    expect((await c.cmd('STATUS INBOX (MESSAGES UNSEEN SIZE)'))[0]).toBe(
      `* STATUS INBOX (MESSAGES 1 UNSEEN 1 SIZE ${small.length})`,
    );
  });

  it('EXAMINE is read-only; CLOSE expunges, UNSELECT does not', async () => {
    const ex = await c.cmd('EXAMINE INBOX');
    expect(ex.at(-1)).toMatch(/OK \[READ-ONLY\]/);
    expect((await c.cmd('STORE 1 +FLAGS (\\Deleted)')).at(-1)).toMatch(/NO \[READ-ONLY\]/);
    // A read-only FETCH of the body does not set \Seen.
    expect((await c.cmd('FETCH 1 (BODY[TEXT] FLAGS)'))[0]).toMatch(/FLAGS \(\)/);
    ok(await c.cmd('SELECT INBOX'));
    ok(await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)'));
    ok(await c.cmd('UNSELECT'));
    expect((await c.cmd('SELECT INBOX')).some((l) => l === '* 1 EXISTS')).toBe(true);
    ok(await c.cmd('CLOSE'));
    expect((await c.cmd('FETCH 1 FLAGS')).at(-1)).toMatch(/BAD No mailbox selected/);
    expect((await c.cmd('STATUS INBOX (MESSAGES)'))[0]).toBe('* STATUS INBOX (MESSAGES 0)');
  });
});
