import { Readable } from 'node:stream';
import type { BlobStore, BlobWriter, Store } from '../types.js';

const INLINE = /^db:(.+)$/;

/**
 * The BlobStore the rest of mailroom uses: `db:<id>` refs are small bodies kept inline in the
 * Store (written by commitMessages), everything else goes to the file BlobStore.
 */
export class CompositeBlobStore implements BlobStore {
  constructor(
    private readonly store: Store,
    private readonly files: BlobStore,
  ) {}

  /** New blobs written piece by piece are always files; inline bodies come from commitMessages. */
  create(id: string): Promise<BlobWriter> {
    return this.files.create(id);
  }

  async read(ref: string): Promise<Buffer> {
    const id = INLINE.exec(ref)?.[1];
    if (id === undefined) return this.files.read(ref);
    const body = await this.store.readInlineBody(id);
    if (!body) throw new Error(`blob ${ref} does not exist`);
    return body;
  }

  stream(ref: string): NodeJS.ReadableStream {
    if (!INLINE.test(ref)) return this.files.stream(ref);
    // Inline bodies are small by construction; reading one whole is the cheap way.
    return Readable.from(
      (async function* (self: CompositeBlobStore) {
        yield await self.read(ref);
      })(this),
    );
  }

  async size(ref: string): Promise<number> {
    if (!INLINE.test(ref)) return this.files.size(ref);
    return (await this.read(ref)).length;
  }

  async remove(ref: string): Promise<void> {
    const id = INLINE.exec(ref)?.[1];
    if (id === undefined) return this.files.remove(ref);
    await this.store.deleteInlineBody(id);
  }
}
