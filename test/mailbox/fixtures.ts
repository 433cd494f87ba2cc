import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailboxService, type MailboxServiceOptions } from '../../src/mailbox/index.js';
import { type BlobStore, CompositeBlobStore, FsBlobStore, SqliteStore } from '../../src/store/index.js';

/** A real SQLite store and file blob store in a temporary directory, with a MailboxService over them. */
export interface MailboxFixture {
  store: SqliteStore;
  blobs: BlobStore;
  dir: string;
  service: MailboxService;
  close(): Promise<void>;
}

/** Open a fresh fixture; `opts` are passed to the service. */
export async function openMailboxFixture(
  opts: Partial<Omit<MailboxServiceOptions, 'store' | 'blobs'>> = {},
): Promise<MailboxFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-mailbox-'));
  const store = new SqliteStore(join(dir, 'mailroom.db'));
  await store.migrate();
  const blobs = new CompositeBlobStore(store, new FsBlobStore(join(dir, 'blobs')));
  const service = new MailboxService({ store, blobs, ...opts });
  return {
    store,
    blobs,
    dir,
    service,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small RFC 5322 message. */
export function rfc822(subject: string, body = 'Hello.\r\n'): Buffer {
  return Buffer.from(`From: a@example.net\r\nTo: b@example.com\r\nSubject: ${subject}\r\n\r\n${body}`);
}
