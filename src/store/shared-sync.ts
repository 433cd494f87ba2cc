import { open } from 'node:fs/promises';

/** fsync a directory, making the names created or renamed in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync, and NTFS journals metadata anyway.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Coalesces fsyncs of one file or directory (a blob directory, the SQLite WAL). A caller needs a sync that *starts after* its rename:
 * one already running may have begun too early, so callers arriving meanwhile all share the
 * next one, which starts when the running one ends. Under load that is at most two syncs in
 * flight per directory however many commits wait.
 */
export class SharedSync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private count = 0;

  constructor(
    private readonly target: string,
    private readonly syncFn: (target: string) => Promise<void> = fsyncDir,
  ) {}

  /** Number of syncs started, for tests and metrics. */
  get syncs(): number {
    return this.count;
  }

  /** Resolve once a sync that began after this call has finished. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = this.running;
    const next = after
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.next = null;
        return this.start();
      });
    this.next = next;
    return next;
  }

  private start(): Promise<void> {
    this.count++;
    // The async wrapper turns a synchronous throw of syncFn into a rejection like any other.
    const p: Promise<void> = (async () => this.syncFn(this.target))().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }
}
