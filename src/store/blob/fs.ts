import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsyncDir, SharedSync } from '../shared-sync.js';
import type { BlobStore, BlobWriter } from '../types.js';

// Ids become file names: no separators, no leading dot (temp files and '..' start with one),
// and the last two characters, which name the subdirectory, must not be dots.
const ID_RE = /^(?!\.)[A-Za-z0-9._-]{0,198}[A-Za-z0-9_-]{2}$/;
const REF_RE = /^fs:([a-z0-9_-]{2})\/([A-Za-z0-9._-]+)$/;
const TEMP_RE = /^\..+\.tmp$/;

/** The subdirectory of a blob id: its last two characters, lower-cased, spreading ids over many directories. */
export function blobSubdir(id: string): string {
  return id.slice(-2).toLowerCase();
}

/**
 * Message bodies as files: `<root>/<xx>/<id>`. A blob is written to a dot-temp file and renamed
 * into place only after an fsync, so a committed ref always names a complete, durable file.
 */
export class FsBlobStore implements BlobStore {
  readonly root: string;
  private readonly dirs = new Map<string, Promise<void>>();
  private readonly syncers = new Map<string, SharedSync>();
  /** Temp files of writers still open, which cleanupTemp must not pull from under them. */
  private readonly openTemps = new Set<string>();

  /** A store rooted at `root` (created on first write). */
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Open a writer for blob `id`; fails if a writer for the same id is already open. */
  async create(id: string): Promise<BlobWriter> {
    if (!ID_RE.test(id)) throw new Error(`invalid blob id: ${JSON.stringify(id)}`);
    const sub = blobSubdir(id);
    const dir = join(this.root, sub);
    await this.ensureDir(dir);
    const temp = join(dir, `.${id}.tmp`);
    // 'wx': two writers on one id would interleave into one file; fail loudly instead.
    const fh = await open(temp, 'wx');
    this.openTemps.add(temp);
    return new FsBlobWriter(this, id, `fs:${sub}/${id}`, dir, temp, fh);
  }

  async read(ref: string): Promise<Buffer> {
    return readFile(this.pathOf(ref));
  }

  stream(ref: string): NodeJS.ReadableStream {
    return createReadStream(this.pathOf(ref));
  }

  async size(ref: string): Promise<number> {
    return (await stat(this.pathOf(ref))).size;
  }

  /** Delete a blob; one already gone is not an error, so clean-up can be retried. */
  async remove(ref: string): Promise<void> {
    try {
      await unlink(this.pathOf(ref));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Remove temp files a crash left behind (not those of writers open here); returns how many. */
  async cleanupTemp(): Promise<number> {
    return cleanupTemp(this.root, this.openTemps);
  }

  /** Directory syncs started so far, summed over directories (metrics, tests). */
  get dirSyncs(): number {
    let n = 0;
    for (const s of this.syncers.values()) n += s.syncs;
    return n;
  }

  /** The file path of a ref; throws for anything that is not one of ours. */
  pathOf(ref: string): string {
    const m = REF_RE.exec(ref);
    if (!m || !ID_RE.test(m[2]!) || blobSubdir(m[2]!) !== m[1]) {
      throw new Error(`not an fs blob ref: ${JSON.stringify(ref)}`);
    }
    return join(this.root, m[1]!, m[2]!);
  }

  /** @internal fsync `dir`, shared with other commits waiting on the same directory. */
  syncDir(dir: string): Promise<void> {
    let s = this.syncers.get(dir);
    if (!s) {
      s = new SharedSync(dir);
      this.syncers.set(dir, s);
    }
    return s.sync();
  }

  /** @internal the writer of `temp` has finished, one way or the other. */
  released(temp: string): void {
    this.openTemps.delete(temp);
  }

  private ensureDir(dir: string): Promise<void> {
    let p = this.dirs.get(dir);
    if (!p) {
      p = mkdirDurable(dir);
      this.dirs.set(dir, p);
      // A failed mkdir (e.g. permissions fixed later) must not stay cached.
      p.catch(() => this.dirs.delete(dir));
    }
    return p;
  }
}

class FsBlobWriter implements BlobWriter {
  private written = 0;
  private chain: Promise<void> = Promise.resolve();
  private failed: { error: unknown } | null = null;
  private state: 'open' | 'committing' | 'done' = 'open';
  private closed = false;

  constructor(
    private readonly store: FsBlobStore,
    readonly id: string,
    private readonly ref: string,
    private readonly dir: string,
    private readonly temp: string,
    private readonly fh: FileHandle,
  ) {}

  get size(): number {
    return this.written;
  }

  /** Append a chunk. Writes are queued, so un-awaited calls still land in call order. */
  write(chunk: Buffer): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`blob ${this.id} is no longer open for writing`));
    const p = this.chain.then(() => this.writeAll(chunk));
    this.chain = p.catch((error: unknown) => {
      this.failed ??= { error };
    });
    return p;
  }

  /** fsync the file, rename it into place, fsync the directory; then the ref is safe to record. */
  async commit(): Promise<string> {
    if (this.state !== 'open') throw new Error(`blob ${this.id} is already ${this.state}`);
    this.state = 'committing';
    await this.chain;
    if (this.failed) {
      await this.discard();
      throw this.failed.error;
    }
    const final = join(this.dir, this.id);
    try {
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
      await rename(this.temp, final);
    } catch (err) {
      await this.discard();
      throw err;
    }
    this.store.released(this.temp);
    try {
      await this.store.syncDir(this.dir);
    } catch (err) {
      // Not known durable, so not committed: the caller will not record the ref.
      this.state = 'done';
      await unlink(final).catch(() => {});
      throw err;
    }
    this.state = 'done';
    return this.ref;
  }

  /** Drop what was written. A no-op once commit() has begun, or after a previous abort. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    await this.discard();
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed.error;
    let off = 0;
    while (off < chunk.length) {
      // Explicit positions keep the file exact even if a short write is retried.
      const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off, this.written + off);
      if (bytesWritten <= 0) throw new Error(`blob ${this.id}: write made no progress`);
      off += bytesWritten;
    }
    this.written += chunk.length;
  }

  private async discard(): Promise<void> {
    this.state = 'done';
    await this.chain;
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => {});
    }
    await unlink(this.temp).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    this.store.released(this.temp);
  }
}

/**
 * Remove `.<id>.tmp` files under a blob root: a crash between create() and commit() leaves
 * them, and nothing else ever will. Run at start, before writers open. Returns how many.
 */
export async function cleanupTemp(root: string, keep: ReadonlySet<string> = new Set()): Promise<number> {
  const base = resolve(root);
  let subs: string[];
  try {
    subs = await readdir(base);
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  let removed = 0;
  for (const sub of subs) {
    const dir = join(base, sub);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isNotFound(err) || isNotDir(err)) continue;
      throw err;
    }
    for (const name of names) {
      const file = join(dir, name);
      if (!TEMP_RE.test(name) || keep.has(file)) continue;
      try {
        await unlink(file);
        removed++;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  return removed;
}

/** mkdir -p, then fsync the parent of every directory it created so the new names survive a crash. */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const stop = dirname(first);
  for (let d = dir; ; d = dirname(d)) {
    const parent = dirname(d);
    await fsyncDir(parent);
    if (parent === stop || parent === d) break;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function isNotDir(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOTDIR';
}
