import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedSync } from '../../src/store/blob/index.js';
import { cleanupTemp, FsBlobStore } from '../../src/store/index.js';

let root: string;
let blobs: FsBlobStore;

beforeEach(() => {
  root = join(mkdtempSync(join(tmpdir(), 'mailroom-blobs-')), 'blobs');
  blobs = new FsBlobStore(root);
});
afterEach(() => {
  rmSync(join(root, '..'), { recursive: true, force: true });
});

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

/** Every file under the root, as `xx/name`. */
function listing(): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .flatMap((sub) => readdirSync(join(root, sub)).map((f) => `${sub}/${f}`))
    .sort();
}

describe('FsBlobStore', () => {
  it('writes, commits, reads, streams, sizes and removes a blob', async () => {
    const w = await blobs.create('MsgAbCD');
    expect(w.id).toBe('MsgAbCD');
    await w.write(Buffer.from('Subject: hi\r\n'));
    await w.write(Buffer.from('\r\nbody\r\n'));
    expect(w.size).toBe(21);
    const ref = await w.commit();
    expect(ref).toBe('fs:cd/MsgAbCD');
    expect(listing()).toEqual(['cd/MsgAbCD']);

    expect((await blobs.read(ref)).toString()).toBe('Subject: hi\r\n\r\nbody\r\n');
    expect((await collect(blobs.stream(ref))).toString()).toBe('Subject: hi\r\n\r\nbody\r\n');
    expect(await blobs.size(ref)).toBe(21);

    await blobs.remove(ref);
    expect(listing()).toEqual([]);
    await blobs.remove(ref); // already gone is fine
    await expect(blobs.read(ref)).rejects.toThrow();
  });

  it('stores an empty blob and a large one written in many chunks', async () => {
    const empty = await (await blobs.create('empty01')).commit();
    expect(await blobs.size(empty)).toBe(0);

    const w = await blobs.create('big0001');
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pending: Promise<void>[] = [];
    // Not awaited one by one: writes must still land in call order.
    for (let i = 0; i < 40; i++) pending.push(w.write(Buffer.concat([Buffer.from(`${i}:`.padStart(4)), chunk])));
    await Promise.all(pending);
    const ref = await w.commit();
    const data = await blobs.read(ref);
    expect(data.length).toBe(40 * (4 + chunk.length));
    for (let i = 0; i < 40; i++) {
      expect(data.subarray(i * (4 + chunk.length), i * (4 + chunk.length) + 4).toString()).toBe(`${i}:`.padStart(4));
    }
  });

  it('abort leaves nothing behind', async () => {
    const w = await blobs.create('gone01');
    await w.write(Buffer.from('partial'));
    expect(listing()).toEqual(['01/.gone01.tmp']);
    await w.abort();
    await w.abort();
    expect(listing()).toEqual([]);
    await expect(w.write(Buffer.from('more'))).rejects.toThrow();
    await expect(w.commit()).rejects.toThrow();
  });

  it('a committed blob is final: abort is a no-op and writing is refused', async () => {
    const w = await blobs.create('done01');
    await w.write(Buffer.from('x'));
    const ref = await w.commit();
    await w.abort();
    await expect(w.write(Buffer.from('y'))).rejects.toThrow();
    await expect(w.commit()).rejects.toThrow();
    expect((await blobs.read(ref)).toString()).toBe('x');
  });

  it('refuses a second writer for the same id', async () => {
    const w = await blobs.create('twice1');
    await expect(blobs.create('twice1')).rejects.toThrow();
    await w.abort();
  });

  it('commits many blobs in one directory concurrently, all readable, sharing directory syncs', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `m${String(i).padStart(3, '0')}zz`);
    const refs = await Promise.all(
      ids.map(async (id) => {
        const w = await blobs.create(id);
        await w.write(Buffer.from(`body of ${id}`));
        return w.commit();
      }),
    );
    expect(refs).toEqual(ids.map((id) => `fs:zz/${id}`));
    for (const [i, ref] of refs.entries()) expect((await blobs.read(ref)).toString()).toBe(`body of ${ids[i]}`);
    expect(listing()).toEqual(ids.map((id) => `zz/${id}`).sort());
    expect(blobs.dirSyncs).toBeGreaterThanOrEqual(1);
    expect(blobs.dirSyncs).toBeLessThanOrEqual(50);
  });

  it('rejects ids and refs that could escape the root', async () => {
    for (const id of ['', 'a', '../x', 'a/bc', '.hidden', 'ab..', 'a\\bc', 'x y']) {
      await expect(blobs.create(id), id).rejects.toThrow(/invalid blob id/);
    }
    for (const ref of ['fs:../../etc/passwd', 'fs:xx/abc', 'fs:ab/..', 'fs:ab/.xab.tmp', 'pg:1', 'fs:AB/xAB']) {
      await expect(blobs.read(ref), ref).rejects.toThrow(/not an fs blob ref/);
    }
    expect(() => blobs.stream('fs:../x')).toThrow(/not an fs blob ref/);
  });

  it('cleanupTemp removes leftovers of a crash but not committed blobs or open writers', async () => {
    const kept = await (await blobs.create('keep01')).commit();
    mkdirSync(join(root, 'q9'), { recursive: true });
    writeFileSync(join(root, 'q9', '.crashedq9.tmp'), 'half');
    writeFileSync(join(root, '01', '.crash01.tmp'), 'half');
    const open = await blobs.create('open01');
    await open.write(Buffer.from('in progress'));

    expect(await blobs.cleanupTemp()).toBe(2);
    expect(listing()).toEqual(['01/.open01.tmp', '01/keep01']);
    expect((await blobs.read(kept)).toString()).toBe('');
    expect((await blobs.read(await open.commit())).toString()).toBe('in progress');

    // The standalone form, as run at start before any writer exists.
    writeFileSync(join(root, '01', '.later01.tmp'), 'x');
    expect(await cleanupTemp(root)).toBe(1);
    expect(await cleanupTemp(join(root, 'does-not-exist'))).toBe(0);
  });
});

describe('SharedSync', () => {
  it('serves every caller waiting during a sync with one later sync', async () => {
    const started: (() => void)[] = [];
    const syncer = new SharedSync('/unused', () => new Promise<void>((done) => started.push(done)));
    const first = syncer.sync();
    expect(started).toHaveLength(1);
    // These renames happened after sync #1 began, so #1 cannot serve them; #2 will, once.
    const waiting = [syncer.sync(), syncer.sync(), syncer.sync()];
    expect(waiting[0]).toBe(waiting[1]);
    expect(started).toHaveLength(1);

    let firstDone = false;
    void first.then(() => {
      firstDone = true;
    });
    started[0]!();
    await first;
    expect(firstDone).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(2);
    expect(syncer.syncs).toBe(2);

    const third = syncer.sync(); // arrives while #2 runs: needs #3
    expect(third).not.toBe(waiting[0]);
    started[1]!();
    await Promise.all(waiting);
    await new Promise((r) => setImmediate(r));
    started[2]!();
    await third;
    expect(syncer.syncs).toBe(3);
  });

  it('passes a failed sync on to its waiters, then recovers', async () => {
    let fail = true;
    const syncer = new SharedSync('/unused', async () => {
      if (fail) throw new Error('EIO');
    });
    await expect(syncer.sync()).rejects.toThrow('EIO');
    fail = false;
    await expect(syncer.sync()).resolves.toBeUndefined();
  });
});
