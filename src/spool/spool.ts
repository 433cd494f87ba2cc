import type { BlobStore, BlobWriter, NewMessage, Store } from '../store/index.js';
import { newQueueId } from '../util/id.js';

/** The envelope of a message being received; the spool adds id, size, blob ref and time. */
export type Envelope = Omit<NewMessage, 'id' | 'size' | 'blobRef' | 'receivedAt'>;

/**
 * Bodies up to this size stay in memory and are committed inline, in the store transaction
 * with their envelope; larger ones stream to a file blob as they arrive.
 */
const INLINE_LIMIT = 256 * 1024;

/**
 * Durable intake. A message is accepted only when `Intake.commit()` resolves: by then its body
 * is durable (inline in the store commit, or a file fsync'd with its directory) and its
 * envelope is committed to the store. Envelopes that
 * arrive together share one store transaction (group commit).
 */
export class Spool {
  private pending: { msg: NewMessage; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private readonly listeners: ((ids: string[]) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Start receiving one message. `holdInMemory` keeps the whole body in memory until commit
   * (bounded by limits.messageSize), so it can still be rewritten, e.g. to add a DKIM signature.
   */
  begin(opts: { holdInMemory?: boolean } = {}): Intake {
    return new Intake(newQueueId(), this.blobs, (msg) => this.enqueue(msg), opts.holdInMemory ?? false);
  }

  /** Called with the ids of each committed group, e.g. to wake the queue. */
  onCommitted(listener: (ids: string[]) => void): void {
    this.listeners.push(listener);
  }

  private enqueue(msg: NewMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ msg, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Let every fsync that finished in this turn of the event loop join the same transaction.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.store.commitMessages(batch.map((b) => b.msg));
      for (const b of batch) b.resolve();
      const ids = batch.map((b) => b.msg.id);
      for (const l of this.listeners) l(ids);
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.scheduled = false;
      if (this.pending.length > 0) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    }
  }
}

/** One message on its way in: body bytes first, then the envelope. */
export class Intake {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private writer: BlobWriter | null = null;
  private total = 0;
  private finished = false;

  constructor(
    readonly id: string,
    private readonly blobs: BlobStore,
    private readonly commitEnvelope: (msg: NewMessage) => Promise<void>,
    private readonly holdInMemory = false,
  ) {}

  /** Octets received so far. */
  get size(): number {
    return this.total;
  }

  /** Add body bytes. Small bodies stay in memory until commit; large ones stream to the blob. */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.total += chunk.length;
    if (this.buffered > INLINE_LIMIT && !this.holdInMemory) await this.spill();
  }

  /**
   * Rewrite the whole message before it is committed (only for intakes held in memory).
   * DKIM needs this: the signature header goes in front, and can be made only once the body is known.
   */
  async transform(fn: (message: Buffer) => Buffer | Promise<Buffer>): Promise<void> {
    if (this.writer || this.finished) throw new Error('only an unfinished in-memory intake can be rewritten');
    const out = await fn(Buffer.concat(this.chunks, this.buffered));
    this.chunks = [out];
    this.buffered = out.length;
    this.total = out.length;
  }

  /** Make body and envelope durable; resolves only after both are on disk. */
  async commit(envelope: Envelope): Promise<void> {
    if (this.finished) throw new Error('intake already finished');
    // (A large body held in memory goes to a file below, like any other large body.)
    if (!this.writer && this.buffered <= INLINE_LIMIT) {
      // Small message: body and envelope become durable in one store commit.
      const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
      this.finished = true;
      const msg = { ...envelope, id: this.id, size: this.total, blobRef: `db:${this.id}`, receivedAt: Date.now() };
      await this.commitEnvelope({ ...msg, body });
      return;
    }
    try {
      await this.spill();
      const writer = this.writer;
      if (!writer) throw new Error('intake was aborted while it was being committed');
      const blobRef = await writer.commit();
      this.finished = true;
      try {
        await this.commitEnvelope({ ...envelope, id: this.id, size: this.total, blobRef, receivedAt: Date.now() });
      } catch (err) {
        await this.blobs.remove(blobRef).catch(() => {});
        throw err;
      }
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drop everything written; safe to call more than once. */
  async abort(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    const writer = this.writer;
    this.writer = null;
    this.finished = true;
    if (writer) await writer.abort().catch(() => {});
  }

  private async spill(): Promise<void> {
    if (this.buffered === 0) return;
    if (!this.writer) {
      const writer = await this.blobs.create(this.id);
      if (this.finished) {
        // Aborted (e.g. the client hung up) while the file was being opened: nothing may stay behind.
        await writer.abort();
        return;
      }
      this.writer = writer;
    }
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    await this.writer.write(data);
  }
}
