import fs from 'node:fs/promises';
import path from 'node:path';
import { splitAddress } from '../router/index.js';
import type { DeliveryContext, DeliveryOutcome, Transport } from './types.js';

/** Characters allowed in a maildir folder name taken from an address. */
function safeName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9._+-]/g, '_')
    .replace(/^\.+/, '_');
}

/**
 * Standard Maildir delivery (tmp → fsync → rename into new/ → fsync new/), for other tools
 * such as Dovecot or mutt. Mail for `local@domain` goes to `<root>/<domain>/<local>/`.
 */
export class MaildirTransport implements Transport {
  readonly name = 'maildir';

  constructor(
    private readonly root: string,
    private readonly hostname: string,
  ) {}

  async deliver({ message, recipient, store, blobs }: DeliveryContext): Promise<DeliveryOutcome> {
    const user = await store.getUser(recipient.address);
    if (!user) return { status: 'bounced', reply: '550 5.1.1 User unknown' };
    const { local, domain } = splitAddress(user.address);
    const dir = path.join(this.root, safeName(domain), safeName(local));
    await Promise.all(['tmp', 'new', 'cur'].map((d) => fs.mkdir(path.join(dir, d), { recursive: true, mode: 0o700 })));
    // A deterministic name: a retried delivery replaces its own earlier copy instead of adding one.
    const name = `${Math.floor(message.receivedAt / 1000)}.M${message.id}R${recipient.id}.${safeName(this.hostname)}`;
    const tmp = path.join(dir, 'tmp', name);
    const header = `Return-Path: <${message.mailFrom}>\r\nDelivered-To: ${recipient.address}\r\n`;
    const body = await blobs.read(message.blobRef);
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(Buffer.concat([Buffer.from(header, 'utf8'), body]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path.join(dir, 'new', name));
    const d = await fs.open(path.join(dir, 'new'), 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return { status: 'delivered', reply: `250 2.0.0 Delivered to maildir ${name}`, idempotent: true };
  }
}
