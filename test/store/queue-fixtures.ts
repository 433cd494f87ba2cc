/** A queue with one message in each situation, for the queue tools' tests. */
import fs from 'node:fs';
import path from 'node:path';
import { FsBlobStore, type NewMessage, SqliteStore } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Open (creating) the SQLite store of a data directory, run `fn`, close it. */
export async function withDataDirStore<T>(dataDir: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  fs.mkdirSync(dataDir, { recursive: true });
  const store = new SqliteStore(path.join(dataDir, 'mailroom.db'));
  await store.migrate();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Seed `dataDir` with OLD1 (3h old, two queued recipients, inline body, DSN parameters), NEW2
 * (7m, a bounce, body in a file), DEF3 (3d, deferred with a reply) and BUSY4 (5d, being
 * delivered by node-1). Returns the path of NEW2's body file.
 */
export async function seedQueue(dataDir: string, now = Date.now()): Promise<{ blobFile: string }> {
  const files = new FsBlobStore(path.join(dataDir, 'blobs'));
  const writer = await files.create('NEW2');
  await writer.write(Buffer.from('Subject: bounce\r\n\r\nfile body\r\n'));
  const fileRef = await writer.commit();
  const inline = (id: string, text: string): Partial<NewMessage> => ({ blobRef: `db:${id}`, body: Buffer.from(text) });
  await withDataDirStore(dataDir, async (store) => {
    await store.commitMessages([
      newMessage('OLD1', ['bob@gmail.com', 'carol@Example.NET'], {
        receivedAt: now - 3 * HOUR,
        dsnRet: 'HDRS',
        dsnEnvid: 'ENV-1',
        ...inline('OLD1', 'Subject: hello\r\n\r\ninline body\r\n'),
      }),
      newMessage('NEW2', ['dan@gmail.com'], { receivedAt: now - 7 * MIN, mailFrom: '', blobRef: fileRef }),
      newMessage('DEF3', ['eve@yahoo.com'], { receivedAt: now - 3 * DAY, ...inline('DEF3', 'x') }),
      newMessage('BUSY4', ['frank@gmail.com'], { receivedAt: now - 5 * DAY, ...inline('BUSY4', 'y') }),
    ]);
    // claimDue takes the most overdue first: BUSY4 stays leased, then DEF3 comes back deferred.
    await store.claimDue('node-1', 1, now, HOUR);
    const [def] = await store.claimDue('node-1', 1, now, HOUR);
    await store.completeDeliveries(
      [
        {
          recipientId: def!.id,
          leaseOwner: 'node-1',
          state: 'deferred',
          reply: '451 4.7.1 Greylisted',
          nextAttemptAt: now + 20 * MIN,
        },
      ],
      now,
    );
  });
  return { blobFile: files.pathOf(fileRef) };
}
