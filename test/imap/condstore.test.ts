import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, RawImap, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer();
});
afterAll(() => t.stop());

async function append(c: RawImap, subject: string): Promise<void> {
  const m = `Subject: ${subject}\r\n\r\nbody of ${subject}\r\n`;
  const r = await c.cmd(`APPEND INBOX {${m.length}+}\r\n${m}`);
  expect(r.at(-1)).toMatch(/OK/);
}

const modseqOf = (line: string) => Number(/MODSEQ \((\d+)\)/.exec(line)?.[1]);

describe('CONDSTORE and QRESYNC (RFC 7162)', () => {
  it('reports MODSEQ, honours UNCHANGEDSINCE and CHANGEDSINCE, resynchronises with VANISHED', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    await login(c);
    for (const s of ['a', 'b', 'c', 'd']) await append(c, s);
    expect(await c.cmd('ENABLE QRESYNC')).toEqual(['* ENABLED QRESYNC', expect.stringMatching(/OK/)]);
    const sel = await c.cmd('SELECT INBOX');
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))?.[1]);
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel.join('\n'))?.[1]);
    expect(highest).toBeGreaterThan(0);

    const f = await c.cmd('FETCH 1:2 (FLAGS MODSEQ)');
    const m1 = modseqOf(f[0]!);
    const stored = await c.cmd(`STORE 1:2 (UNCHANGEDSINCE ${m1}) +FLAGS (\\Flagged)`);
    // Message 2 may carry a higher modseq than message 1 from its APPEND: it then fails the condition.
    const last = stored.at(-1)!;
    expect(last).toMatch(/OK (\[MODIFIED 2\] Conditional STORE failed|Store completed)\./);
    expect(stored[0]).toMatch(/^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
    const after = modseqOf(stored[0]!);
    expect(after).toBeGreaterThan(highest);
    const changed = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
    expect(changed).toEqual([`* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${after}))`, expect.stringMatching(/OK/)]);
    expect((await c.cmd(`SEARCH MODSEQ ${after}`))[0]).toBe(`* SEARCH 1 (MODSEQ ${after})`);

    await c.cmd('STORE 3 +FLAGS.SILENT (\\Deleted)');
    expect(await c.cmd('EXPUNGE')).toEqual(['* VANISHED 3', expect.stringMatching(/OK \[HIGHESTMODSEQ \d+\]/)]);
    await c.cmd('UNSELECT');

    const resync = await c.cmd(`SELECT INBOX (QRESYNC (${uidValidity} ${highest} 1:4))`);
    expect(resync).toContain('* VANISHED (EARLIER) 3');
    expect(resync).toContain(`* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${after}))`);
    const vanished = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`);
    expect(vanished[0]).toBe('* VANISHED (EARLIER) 3');
    c.close();
  });

  it('ESEARCH returns MIN, MAX, COUNT and ALL with the tag', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    await login(c, 'bob@example.test');
    for (const s of ['x', 'y', 'z']) await append(c, s);
    await c.cmd('SELECT INBOX');
    expect(await c.cmd('UID SEARCH RETURN (MIN MAX COUNT ALL) ALL')).toEqual([
      '* ESEARCH (TAG "t6") UID MIN 1 MAX 3 ALL 1:3 COUNT 3',
      expect.stringMatching(/OK/),
    ]);
    // RETURN () means ALL, which is left out when nothing matched (RFC 4731 3.1).
    expect((await c.cmd('SEARCH RETURN () SUBJECT nothing'))[0]).toBe('* ESEARCH (TAG "t7")');
    c.close();
  });
});
