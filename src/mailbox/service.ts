import type {
  BlobStore,
  CopyResult,
  ExpungeResult,
  FlagChange,
  FlagChangeResult,
  Mailbox,
  MailboxMessage,
  Store,
  User,
} from '../store/index.js';
import { StoreConflictError, StoreNotFoundError } from '../store/index.js';
import { newQueueId } from '../util/id.js';
import { MailboxError, QuotaExceededError } from './errors.js';
import { DEFAULT_MAILBOXES, isWithin, normalizeFlags, normalizeMailboxName, parentNames } from './names.js';
import { MailboxNotifier } from './notifier.js';

export interface MailboxServiceOptions {
  store: Store;
  blobs: BlobStore;
  /** Shared by every session of this process; a private one when absent. */
  notifier?: MailboxNotifier;
  /** Quota for users without their own (`mailbox.quota`); null or absent: unlimited. */
  defaultQuota?: number | null;
  now?: () => number;
  /**
   * Computes the IMAP structure cache (BODYSTRUCTURE/ENVELOPE, as the IMAP server encodes it)
   * from a stored body, at delivery and append, so FETCH never re-parses. Absent: left null.
   */
  describe?: (body: NodeJS.ReadableStream) => Promise<string | null>;
}

/** What IMAP STATUS and SELECT report about a mailbox. */
export interface MailboxStatus {
  mailbox: Mailbox;
  messages: number;
  unseen: number;
  /** Messages flagged \Deleted (not yet expunged). */
  deleted: number;
  /** Bytes of all messages (STATUS SIZE, RFC 8438). */
  size: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
}

/** Who made a change, so a session can skip the notice of its own change. */
export interface ChangeOrigin {
  origin?: unknown;
}

/** A user's quota and what they use of it. */
export interface QuotaInfo {
  usedBytes: number;
  messages: number;
  /** null: unlimited. */
  limitBytes: number | null;
}

/**
 * The mailbox model that IMAP, POP3 and local delivery share: per-user mailboxes with UIDs,
 * flags and MODSEQ in the Store, bodies in the BlobStore, quotas, and change notices to the
 * other sessions of the same mailbox.
 */
export class MailboxService {
  readonly notifier: MailboxNotifier;
  private readonly store: Store;
  private readonly blobs: BlobStore;
  private readonly defaultQuota: number | null;
  private readonly now: () => number;
  private readonly describe: MailboxServiceOptions['describe'];
  /** Users whose default mailboxes exist, so the check costs nothing after the first time. */
  private readonly provisioned = new Set<number>();

  constructor(opts: MailboxServiceOptions) {
    this.store = opts.store;
    this.blobs = opts.blobs;
    this.notifier = opts.notifier ?? new MailboxNotifier();
    this.defaultQuota = opts.defaultQuota ?? null;
    this.now = opts.now ?? Date.now;
    this.describe = opts.describe;
  }

  /** Create INBOX and the special-use mailboxes of a user when missing; subscribe them. */
  async ensureDefaults(userId: number): Promise<void> {
    if (this.provisioned.has(userId)) return;
    const existing = new Set((await this.store.listMailboxes(userId)).map((m) => m.name));
    for (const d of DEFAULT_MAILBOXES) {
      if (existing.has(d.name)) continue;
      await this.store.ensureMailbox(userId, d.name, d.specialUse);
      await this.store.setSubscription(userId, d.name, true);
    }
    this.provisioned.add(userId);
  }

  /** All mailboxes of a user, by name. */
  async list(userId: number): Promise<Mailbox[]> {
    await this.ensureDefaults(userId);
    return this.store.listMailboxes(userId);
  }

  /** A mailbox by name (INBOX in any case), or null. */
  async get(userId: number, name: string): Promise<Mailbox | null> {
    await this.ensureDefaults(userId);
    const n = normalizeMailboxName(name);
    return n === null ? null : this.store.getMailbox(userId, n);
  }

  /** A mailbox by name; MailboxError NONEXISTENT when there is none. */
  async require(userId: number, name: string): Promise<Mailbox> {
    const box = await this.get(userId, name);
    if (!box) throw new MailboxError('NONEXISTENT', 'Mailbox does not exist');
    return box;
  }

  /** The current counters of a mailbox (UIDNEXT, HIGHESTMODSEQ); NONEXISTENT once deleted. */
  async refresh(mailboxId: number): Promise<Mailbox> {
    const box = await this.store.getMailboxById(mailboxId);
    if (!box) throw new MailboxError('NONEXISTENT', 'Mailbox has been deleted');
    return box;
  }

  /** Create a mailbox (and its missing parents, RFC 3501 6.3.3). */
  async create(userId: number, name: string, specialUse: string | null = null): Promise<Mailbox> {
    await this.ensureDefaults(userId);
    const n = this.validName(name);
    if (await this.store.getMailbox(userId, n)) throw new MailboxError('ALREADYEXISTS', 'Mailbox already exists');
    for (const p of parentNames(n)) await this.store.ensureMailbox(userId, p, null);
    return this.store.ensureMailbox(userId, n, specialUse);
  }

  /**
   * Rename a mailbox with its children. Renaming INBOX moves its messages to a new mailbox
   * and leaves INBOX empty (RFC 3501 6.3.5).
   */
  async rename(userId: number, from: string, to: string, opts: ChangeOrigin = {}): Promise<Mailbox> {
    await this.ensureDefaults(userId);
    const src = await this.require(userId, from);
    const dst = this.validName(to);
    if (await this.store.getMailbox(userId, dst)) throw new MailboxError('ALREADYEXISTS', 'Mailbox already exists');
    if (isWithin(dst, src.name)) throw new MailboxError('CANNOT', 'Cannot rename a mailbox into itself');
    if (src.name === 'INBOX') {
      const target = await this.create(userId, dst);
      const uids = (await this.store.listMailboxMessages(src.id)).map((m) => m.uid);
      if (uids.length > 0) await this.transfer(src, target, uids, true, opts);
      return this.refresh(target.id);
    }
    for (const p of parentNames(dst)) await this.store.ensureMailbox(userId, p, null);
    try {
      return await this.store.renameMailbox(userId, src.name, dst);
    } catch (err) {
      if (err instanceof StoreConflictError) throw new MailboxError('ALREADYEXISTS', 'Mailbox already exists');
      if (err instanceof StoreNotFoundError) throw new MailboxError('NONEXISTENT', 'Mailbox does not exist');
      throw err;
    }
  }

  /** Delete a mailbox and its messages; its children stay. INBOX cannot be deleted. */
  async delete(userId: number, name: string): Promise<void> {
    const box = await this.require(userId, name);
    if (box.name === 'INBOX') throw new MailboxError('CANNOT', 'INBOX cannot be deleted');
    const messages = await this.store.listMailboxMessages(box.id);
    const refs = await this.store.deleteMailbox(box.id);
    if (refs === null) throw new MailboxError('NONEXISTENT', 'Mailbox does not exist');
    if (messages.length > 0) {
      this.notifier.publish({
        type: 'expunge',
        mailboxId: box.id,
        uids: messages.map((m) => m.uid),
        modseq: box.highestModseq + 1,
      });
    }
    await this.removeUnusedBlobs(refs);
  }

  /** Subscribe to a name (which need not exist). */
  async subscribe(userId: number, name: string): Promise<void> {
    await this.store.setSubscription(userId, this.validName(name), true);
  }

  async unsubscribe(userId: number, name: string): Promise<void> {
    const n = normalizeMailboxName(name) ?? name;
    await this.store.setSubscription(userId, n, false);
  }

  /** Subscribed names, sorted. */
  async subscriptions(userId: number): Promise<string[]> {
    await this.ensureDefaults(userId);
    return this.store.listSubscriptions(userId);
  }

  /**
   * Store a new message (IMAP APPEND): the body, whole or streamed in chunks, becomes a blob and
   * the message gets the next UID. The quota is checked before anything is written against
   * `opts.size` (an IMAP literal's announced size) or the buffer's length, and again against the
   * bytes actually written. QuotaExceededError when it does not fit.
   */
  async append(
    userId: number,
    mailbox: Mailbox | string,
    body: Buffer | AsyncIterable<Buffer>,
    opts: { flags?: string[]; internalDate?: number; size?: number } & ChangeOrigin = {},
  ): Promise<{ uid: number; uidValidity: number; message: MailboxMessage }> {
    const box = typeof mailbox === 'string' ? await this.require(userId, mailbox) : mailbox;
    const announced = Buffer.isBuffer(body) ? body.length : (opts.size ?? 0);
    await this.checkQuota(userId, announced);
    const writer = await this.blobs.create(newQueueId(this.now()));
    let blobRef: string;
    let size: number;
    try {
      if (Buffer.isBuffer(body)) await writer.write(body);
      else for await (const chunk of body) await writer.write(chunk);
      size = writer.size;
      if (size > announced) await this.checkQuota(userId, size);
      blobRef = await writer.commit();
    } catch (err) {
      await writer.abort().catch(() => {});
      throw err;
    }
    try {
      const message = await this.store.appendMailboxMessage(box.id, {
        blobRef,
        size,
        flags: normalizeFlags(opts.flags ?? []),
        internalDate: opts.internalDate ?? this.now(),
        structure: await this.describeBlob(blobRef),
      });
      this.notifier.publish({ type: 'exists', mailboxId: box.id, messages: [message], origin: opts.origin });
      return { uid: message.uid, uidValidity: box.uidValidity, message };
    } catch (err) {
      await this.blobs.remove(blobRef).catch(() => {});
      if (err instanceof StoreNotFoundError) throw new MailboxError('NONEXISTENT', 'Mailbox does not exist');
      throw err;
    }
  }

  /**
   * Local delivery into a user's INBOX of a queued message's blob (shared, not copied).
   * Idempotent per `dedupeKey`; QuotaExceededError when the user is over quota.
   */
  async deliver(
    user: User,
    msg: { blobRef: string; size: number; internalDate: number },
    dedupeKey: string,
  ): Promise<MailboxMessage> {
    await this.ensureDefaults(user.id);
    const inbox = await this.store.ensureMailbox(user.id, 'INBOX', null);
    await this.checkQuota(user.id, msg.size, user);
    const uidNext = inbox.uidNext;
    const structure = await this.describeBlob(msg.blobRef);
    const message = await this.store.appendMailboxMessage(inbox.id, { ...msg, flags: [], dedupeKey, structure });
    // A repeated delivery returns the first append; nobody needs to hear about it twice.
    if (message.uid >= uidNext) this.notifier.publish({ type: 'exists', mailboxId: inbox.id, messages: [message] });
    return message;
  }

  /** Counts for IMAP STATUS and SELECT: messages, unseen, deleted, bytes, with the mailbox counters. */
  async status(mailboxId: number): Promise<MailboxStatus> {
    const box = await this.refresh(mailboxId);
    const messages = await this.store.listMailboxMessages(mailboxId);
    let unseen = 0;
    let deleted = 0;
    let size = 0;
    for (const m of messages) {
      if (!m.flags.includes('\\Seen')) unseen++;
      if (m.flags.includes('\\Deleted')) deleted++;
      size += m.size;
    }
    return {
      mailbox: box,
      messages: messages.length,
      unseen,
      deleted,
      size,
      uidNext: box.uidNext,
      uidValidity: box.uidValidity,
      highestModseq: box.highestModseq,
    };
  }

  /** All messages of a mailbox in UID order. */
  async messages(mailboxId: number): Promise<MailboxMessage[]> {
    return this.store.listMailboxMessages(mailboxId);
  }

  /** Add, remove or replace flags (system flags in any case); other sessions are told. */
  async storeFlags(mailboxId: number, change: FlagChange, opts: ChangeOrigin = {}): Promise<FlagChangeResult> {
    const result = await this.store.storeMailboxFlags(mailboxId, { ...change, flags: normalizeFlags(change.flags) });
    if (result.changed.length > 0) {
      this.notifier.publish({ type: 'flags', mailboxId, messages: result.changed, origin: opts.origin });
    }
    return result;
  }

  /**
   * Expunge messages flagged \Deleted (all, or those among `uids`); with `deletedOnly: false`
   * the given UIDs whatever their flags. Blobs nothing else uses are removed.
   */
  async expunge(
    mailboxId: number,
    opts: { uids?: number[]; deletedOnly?: boolean } & ChangeOrigin = {},
  ): Promise<ExpungeResult> {
    const result = await this.store.expungeMailboxMessages(mailboxId, {
      ...(opts.uids ? { uids: opts.uids } : {}),
      deletedOnly: opts.deletedOnly ?? true,
    });
    this.afterExpunge(mailboxId, result, opts.origin);
    await this.removeUnusedBlobs(result.expunged.map((e) => e.blobRef));
    return result;
  }

  /** UIDs expunged after a modseq (QRESYNC VANISHED). */
  async expungedSince(mailboxId: number, modseq: number): Promise<number[]> {
    return this.store.listExpungedUids(mailboxId, modseq);
  }

  /** Copy messages to another mailbox of the same user (UIDPLUS mapping); counts against quota. */
  async copy(from: Mailbox, to: Mailbox, uids: number[], opts: ChangeOrigin = {}): Promise<CopyResult> {
    const messages = await this.store.getMailboxMessages(from.id, uids);
    await this.checkQuota(
      to.userId,
      messages.reduce((n, m) => n + m.size, 0),
    );
    return this.transfer(from, to, uids, false, opts);
  }

  /** Move messages to another mailbox in one transaction (RFC 6851); quota does not change. */
  async move(from: Mailbox, to: Mailbox, uids: number[], opts: ChangeOrigin = {}): Promise<CopyResult> {
    return this.transfer(from, to, uids, true, opts);
  }

  /** Stream a message's bytes, for large bodies. */
  openBody(message: Pick<MailboxMessage, 'blobRef'>): NodeJS.ReadableStream {
    return this.blobs.stream(message.blobRef);
  }

  /** A message's bytes, whole. */
  readBody(message: Pick<MailboxMessage, 'blobRef'>): Promise<Buffer> {
    return this.blobs.read(message.blobRef);
  }

  /** The IMAP structure cache of a message, stored once computed. */
  async setStructure(mailboxId: number, uid: number, structure: string): Promise<boolean> {
    return this.store.setMailboxMessageStructure(mailboxId, uid, structure);
  }

  /** A user's quota and usage. */
  async quota(userId: number, user?: User | null): Promise<QuotaInfo> {
    const u = user ?? (await this.store.getUserById(userId));
    const usage = await this.store.mailboxUsage(userId);
    return { usedBytes: usage.bytes, messages: usage.messages, limitBytes: u?.quotaBytes ?? this.defaultQuota };
  }

  /** Throw QuotaExceededError when `extra` more bytes would not fit. */
  async checkQuota(userId: number, extra: number, user?: User | null): Promise<void> {
    const u = user ?? (await this.store.getUserById(userId));
    // Without a quota there is nothing to add up (this runs for every delivery).
    if ((u?.quotaBytes ?? this.defaultQuota) === null) return;
    const q = await this.quota(userId, u);
    if (q.limitBytes !== null && q.usedBytes + extra > q.limitBytes) {
      throw new QuotaExceededError(q.usedBytes, q.limitBytes, extra);
    }
  }

  private async transfer(
    from: Mailbox,
    to: Mailbox,
    uids: number[],
    move: boolean,
    opts: ChangeOrigin,
  ): Promise<CopyResult> {
    let result: CopyResult;
    try {
      result = await this.store.copyMailboxMessages(from.id, to.id, uids, { move });
    } catch (err) {
      if (err instanceof StoreNotFoundError) throw new MailboxError('NONEXISTENT', 'Mailbox does not exist');
      throw err;
    }
    if (result.mapping.length > 0) {
      const added = await this.store.getMailboxMessages(
        to.id,
        result.mapping.map((m) => m.to),
      );
      this.notifier.publish({ type: 'exists', mailboxId: to.id, messages: added, origin: opts.origin });
    }
    if (result.expunged) this.afterExpunge(from.id, result.expunged, opts.origin);
    return result;
  }

  private afterExpunge(mailboxId: number, result: ExpungeResult, origin: unknown): void {
    if (result.expunged.length === 0) return;
    this.notifier.publish({
      type: 'expunge',
      mailboxId,
      uids: result.expunged.map((e) => e.uid),
      modseq: result.modseq,
      origin,
    });
  }

  /** The structure cache for a stored body, from the `describe` hook; null without one or on error. */
  private async describeBlob(blobRef: string): Promise<string | null> {
    if (!this.describe) return null;
    const body = this.blobs.stream(blobRef) as NodeJS.ReadableStream & { destroy?: () => void };
    body.on('error', () => {});
    try {
      return await this.describe(body);
    } catch {
      // The cache can be filled later; a message that cannot be described is still delivered.
      return null;
    } finally {
      // A hook that stops early must not leave the file open.
      body.destroy?.();
    }
  }

  private validName(name: string): string {
    const n = normalizeMailboxName(name);
    if (n === null) throw new MailboxError('CANNOT', 'Invalid mailbox name');
    return n;
  }

  /** Remove blobs that no message (queued or in a mailbox) refers to any more. */
  private async removeUnusedBlobs(refs: string[]): Promise<void> {
    for (const ref of new Set(refs)) {
      try {
        if (!(await this.store.blobInUse(ref))) await this.blobs.remove(ref);
      } catch {
        // A blob left behind costs space, never correctness.
      }
    }
  }
}
