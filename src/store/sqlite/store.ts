import { sqliteMigrations } from '../migrations/sqlite.js';
import type {
  Alias,
  ApiKey,
  AuthFailureCount,
  AuthFailureEntry,
  CopyResult,
  Credentials,
  DeliveryResult,
  DkimKey,
  Domain,
  DomainTransport,
  EventCount,
  ExpungeResult,
  FlagChange,
  FlagChangeResult,
  GreylistEntry,
  IdempotencyRecord,
  Mailbox,
  MailboxMessage,
  MailboxUsage,
  Message,
  MessageListFilter,
  MessageListItem,
  MessageMeta,
  NewEvent,
  NewMailboxMessage,
  NewMessage,
  PurgedMessage,
  QueuedMessage,
  QueueFilter,
  QueueSummary,
  RateDecision,
  Recipient,
  RecipientState,
  Store,
  StoredEvent,
  Suppression,
  User,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
} from '../types.js';
import { Accounts, type NewUserOptions } from './accounts.js';
import { ApiKeys } from './api-keys.js';
import { AuthFailures } from './auth-failures.js';
import { Db } from './db.js';
import { DkimKeys, type NewDkimKey } from './dkim.js';
import { Events } from './events.js';
import { Grants } from './grants.js';
import { MailboxChanges } from './mailbox-changes.js';
import { Mailboxes } from './mailboxes.js';
import { MessageMetas } from './message-meta.js';
import { Messages } from './messages.js';
import { appliedVersions, runMigrations } from './migrate.js';
import { Queue } from './queue.js';
import { QueueTools } from './queue-tools.js';
import { Suppressions } from './suppressions.js';
import { TrustState } from './trust.js';
import { Webhooks } from './webhooks.js';

/** Connection settings as SQLite reports them, for diagnostics and tests. */
export interface SqlitePragmas {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeout: number;
}

/**
 * The SQLite Store. better-sqlite3 is synchronous, so every method does its work before
 * returning a settled promise; the async shape is for the networked postgres implementation.
 */
export class SqliteStore implements Store {
  readonly driver = 'sqlite' as const;
  private readonly db: Db;
  private readonly accounts: Accounts;
  private readonly messages: Messages;
  private readonly queue: Queue;
  private readonly mailboxes: Mailboxes;
  private readonly events: Events;
  private readonly grants: Grants;
  private readonly authFailures: AuthFailures;
  private readonly dkim: DkimKeys;
  private readonly queueTools: QueueTools;
  private readonly mailboxChanges: MailboxChanges;
  private readonly trust: TrustState;
  private readonly apiKeys: ApiKeys;
  private readonly suppressions: Suppressions;
  private readonly metas: MessageMetas;
  private readonly webhooks: Webhooks;

  /** Open the database file at `path` (created if missing), or ':memory:'. Call migrate() before use. */
  constructor(readonly path: string) {
    this.db = new Db(path);
    this.accounts = new Accounts(this.db);
    this.messages = new Messages(this.db);
    this.queue = new Queue(this.db);
    this.mailboxes = new Mailboxes(this.db);
    this.events = new Events(this.db);
    this.grants = new Grants(this.db);
    this.authFailures = new AuthFailures(this.db);
    this.dkim = new DkimKeys(this.db);
    this.queueTools = new QueueTools(this.db);
    this.mailboxChanges = new MailboxChanges(this.db);
    this.trust = new TrustState(this.db);
    this.apiKeys = new ApiKeys(this.db);
    this.suppressions = new Suppressions(this.db);
    this.metas = new MessageMetas(this.db);
    this.webhooks = new Webhooks(this.db);
  }

  async migrate(): Promise<void> {
    runMigrations(this.db, sqliteMigrations);
  }

  /** Schema versions applied to this database, ascending. */
  async schemaVersions(): Promise<number[]> {
    return appliedVersions(this.db);
  }

  /** The connection's durability settings as SQLite reports them. */
  pragmas(): SqlitePragmas {
    const raw = this.db.raw;
    return {
      journalMode: String(raw.pragma('journal_mode', { simple: true })),
      synchronous: Number(raw.pragma('synchronous', { simple: true })),
      foreignKeys: Number(raw.pragma('foreign_keys', { simple: true })) === 1,
      busyTimeout: Number(raw.pragma('busy_timeout', { simple: true })),
    };
  }

  async close(): Promise<void> {
    await this.db.stopCheckpoints();
    this.db.close();
  }

  // domains

  async addDomain(name: string, transport: DomainTransport): Promise<Domain> {
    return this.accounts.addDomain(name, transport);
  }

  async getDomain(name: string): Promise<Domain | null> {
    return this.accounts.getDomain(name);
  }

  async listDomains(): Promise<Domain[]> {
    return this.accounts.listDomains();
  }

  async removeDomain(name: string): Promise<boolean> {
    return this.accounts.removeDomain(name);
  }

  // users

  async addUser(address: string, passwordHash: string, opts?: NewUserOptions): Promise<User> {
    return this.accounts.addUser(address, passwordHash, opts);
  }

  async getUser(address: string): Promise<User | null> {
    return this.accounts.getUser(address);
  }

  async getUserById(id: number): Promise<User | null> {
    return this.accounts.getUserById(id);
  }

  async listUsers(domain?: string): Promise<User[]> {
    return this.accounts.listUsers(domain);
  }

  async setPassword(address: string, passwordHash: string): Promise<boolean> {
    return this.accounts.setPassword(address, passwordHash);
  }

  async setCredentials(address: string, credentials: Credentials): Promise<boolean> {
    return this.accounts.setCredentials(address, credentials);
  }

  async setUserDisabled(address: string, disabled: boolean): Promise<boolean> {
    return this.accounts.setUserDisabled(address, disabled);
  }

  async removeUser(address: string): Promise<boolean> {
    return this.accounts.removeUser(address);
  }

  // sender grants

  async addSenderGrant(user: string, address: string): Promise<void> {
    this.grants.add(user, address);
  }

  async removeSenderGrant(user: string, address: string): Promise<boolean> {
    return this.grants.remove(user, address);
  }

  async listSenderGrants(user: string): Promise<string[]> {
    return this.grants.list(user);
  }

  // failed logins

  async recordAuthFailure(kind: 'ip' | 'user', key: string, now: number, windowMs: number): Promise<AuthFailureCount> {
    return this.authFailures.record(kind, key, now, windowMs);
  }

  async getAuthFailures(kind: 'ip' | 'user', key: string, now: number, windowMs: number): Promise<AuthFailureCount> {
    return this.authFailures.get(kind, key, now, windowMs);
  }

  async clearAuthFailures(kind: 'ip' | 'user', key: string): Promise<boolean> {
    return this.authFailures.clear(kind, key);
  }

  async pruneAuthFailures(before: number): Promise<number> {
    return this.authFailures.prune(before);
  }

  async listAuthFailures(since: number): Promise<AuthFailureEntry[]> {
    return this.authFailures.list(since);
  }

  // DKIM keys

  async addDkimKey(key: NewDkimKey): Promise<DkimKey> {
    return this.dkim.add(key);
  }

  async listDkimKeys(domain?: string): Promise<DkimKey[]> {
    return this.dkim.list(domain);
  }

  async getActiveDkimKey(domain: string): Promise<DkimKey | null> {
    return this.dkim.active(domain);
  }

  async activateDkimKey(domain: string, selector: string): Promise<boolean> {
    return this.dkim.activate(domain, selector);
  }

  async removeDkimKey(domain: string, selector: string): Promise<boolean> {
    return this.dkim.remove(domain, selector);
  }

  // aliases

  async addAlias(source: string, destinations: string[]): Promise<Alias> {
    return this.accounts.addAlias(source, destinations);
  }

  async getAlias(source: string): Promise<Alias | null> {
    return this.accounts.getAlias(source);
  }

  async listAliases(domain?: string): Promise<Alias[]> {
    return this.accounts.listAliases(domain);
  }

  async removeAlias(source: string, destinations?: string[]): Promise<boolean> {
    return this.accounts.removeAlias(source, destinations);
  }

  // messages and the queue

  async commitMessages(messages: NewMessage[]): Promise<void> {
    await this.messages.commit(messages);
  }

  async readInlineBody(id: string): Promise<Buffer | null> {
    return this.messages.readBody(id);
  }

  async deleteInlineBody(id: string): Promise<boolean> {
    return this.messages.deleteBody(id);
  }

  async getMessage(id: string): Promise<Message | null> {
    return this.messages.get(id);
  }

  async getRecipients(messageId: string): Promise<Recipient[]> {
    return this.messages.recipients(messageId);
  }

  async deleteMessages(ids: string[]): Promise<{ id: string; blobRef: string; blobRemoved?: boolean }[]> {
    // One transaction for the envelopes and the inline bodies nothing else uses, instead of one
    // more transaction per body; relaxed like the rest of clean-up, which redoes anything lost.
    return this.db.relaxedWrite(() =>
      this.messages.deleteMany(ids).map((d) => {
        const inline = d.blobRef === `db:${d.id}` && !this.mailboxes.referencesBlob(d.blobRef);
        if (!inline) return d;
        this.messages.dropBody(d.id);
        return { ...d, blobRemoved: true };
      }),
    );
  }

  async deleteMessage(id: string): Promise<string | null> {
    return this.messages.deleteMany([id])[0]?.blobRef ?? null;
  }

  async claimDue(node: string, limit: number, now: number, leaseMs: number): Promise<Recipient[]> {
    return this.queue.claimDue(node, limit, now, leaseMs);
  }

  async recoverLeases(now: number): Promise<number> {
    return this.queue.recoverLeases(now);
  }

  async renewLeases(node: string, recipientIds: number[], until: number): Promise<number[]> {
    return this.queue.renewLeases(node, recipientIds, until);
  }

  async completeDeliveries(results: DeliveryResult[], now: number, opts?: { durable?: boolean }): Promise<number> {
    return this.queue.complete(results, now, opts?.durable ?? true);
  }

  async nextDueAt(): Promise<number | null> {
    return this.queue.nextDueAt();
  }

  async listQueue(filter?: QueueFilter): Promise<Recipient[]> {
    return this.queue.list(filter);
  }

  async queueSummary(): Promise<QueueSummary> {
    return this.queue.summary();
  }

  async setRecipientState(ids: number[], state: 'held' | 'queued', now: number): Promise<number> {
    return this.queue.setState(ids, state, now);
  }

  async listFinishedMessages(limit: number): Promise<string[]> {
    return this.messages.finished(limit);
  }

  async listQueueMessages(filter?: QueueFilter): Promise<QueuedMessage[]> {
    return this.queueTools.listMessages(filter);
  }

  async changeRecipientStates(
    ids: number[],
    from: RecipientState[],
    to: 'held' | 'queued',
    now: number,
  ): Promise<Recipient[]> {
    return this.queueTools.change(ids, from, to, now);
  }

  async purgeMessages(ids: string[]): Promise<PurgedMessage[]> {
    return this.queueTools.purge(ids);
  }

  // mailboxes

  async ensureMailbox(userId: number, name: string, specialUse?: string | null): Promise<Mailbox> {
    return this.mailboxes.ensure(userId, name, specialUse ?? null);
  }

  async getMailbox(userId: number, name: string): Promise<Mailbox | null> {
    return this.mailboxes.get(userId, name);
  }

  async listMailboxes(userId: number): Promise<Mailbox[]> {
    return this.mailboxes.list(userId);
  }

  async appendMailboxMessage(mailboxId: number, msg: NewMailboxMessage): Promise<MailboxMessage> {
    return this.mailboxes.append(mailboxId, msg);
  }

  async listMailboxMessages(mailboxId: number): Promise<MailboxMessage[]> {
    return this.mailboxes.messages(mailboxId);
  }

  async blobInUse(blobRef: string): Promise<boolean> {
    return this.db.read(() => this.messages.referencesBlob(blobRef) || this.mailboxes.referencesBlob(blobRef));
  }

  // mailbox model

  async getMailboxById(id: number): Promise<Mailbox | null> {
    return this.mailboxes.getById(id);
  }

  async renameMailbox(userId: number, from: string, to: string): Promise<Mailbox> {
    return this.mailboxes.rename(userId, from, to);
  }

  async deleteMailbox(mailboxId: number): Promise<string[] | null> {
    return this.mailboxes.delete(mailboxId);
  }

  async listMailboxMessagesSince(mailboxId: number, changedSince: number): Promise<MailboxMessage[]> {
    return this.mailboxes.messagesSince(mailboxId, changedSince);
  }

  async getMailboxMessages(mailboxId: number, uids: number[]): Promise<MailboxMessage[]> {
    return this.mailboxes.messagesByUid(mailboxId, uids);
  }

  async storeMailboxFlags(mailboxId: number, change: FlagChange): Promise<FlagChangeResult> {
    return this.mailboxChanges.storeFlags(mailboxId, change);
  }

  async expungeMailboxMessages(
    mailboxId: number,
    opts?: { uids?: number[]; deletedOnly?: boolean },
  ): Promise<ExpungeResult> {
    return this.mailboxChanges.expunge(mailboxId, opts);
  }

  async listExpungedUids(mailboxId: number, sinceModseq: number): Promise<number[]> {
    return this.mailboxChanges.expungedSince(mailboxId, sinceModseq);
  }

  async copyMailboxMessages(
    fromId: number,
    toId: number,
    uids: number[],
    opts?: { move?: boolean },
  ): Promise<CopyResult> {
    return this.mailboxChanges.copy(fromId, toId, uids, opts?.move ?? false);
  }

  async setMailboxMessageStructure(mailboxId: number, uid: number, structure: string): Promise<boolean> {
    return this.mailboxes.setStructure(mailboxId, uid, structure);
  }

  async setSubscription(userId: number, name: string, subscribed: boolean): Promise<boolean> {
    return this.mailboxChanges.setSubscription(userId, name, subscribed);
  }

  async listSubscriptions(userId: number): Promise<string[]> {
    return this.mailboxChanges.subscriptions(userId);
  }

  async mailboxUsage(userId: number): Promise<MailboxUsage> {
    return this.mailboxChanges.usage(userId);
  }

  async setUserQuota(address: string, quotaBytes: number | null): Promise<boolean> {
    return this.accounts.setUserQuota(address, quotaBytes);
  }

  // events

  async appendEvents(events: NewEvent[]): Promise<void> {
    this.events.append(events);
  }

  async listEvents(messageId: string): Promise<StoredEvent[]> {
    return this.events.list(messageId);
  }

  // inbound trust

  async getGreylist(key: string): Promise<GreylistEntry | null> {
    return this.trust.getGreylist(key);
  }

  async saveGreylist(entry: GreylistEntry): Promise<void> {
    this.trust.saveGreylist(entry);
  }

  async countGreylistPasses(client: string, since: number): Promise<number> {
    return this.trust.countGreylistPasses(client, since);
  }

  async pruneGreylist(before: number): Promise<number> {
    return this.trust.pruneGreylist(before);
  }

  async takeRate(key: string, now: number, windowMs: number, limit: number): Promise<RateDecision> {
    return this.trust.takeRate(key, now, windowMs, limit);
  }

  async pruneRates(before: number): Promise<number> {
    return this.trust.pruneRates(before);
  }

  // HTTP API keys

  async addApiKey(key: Omit<ApiKey, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKey> {
    return this.apiKeys.add(key);
  }

  async getApiKeyByHash(hash: string): Promise<ApiKey | null> {
    return this.apiKeys.byHash(hash);
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return this.apiKeys.list();
  }

  async revokeApiKey(idOrName: string, now: number): Promise<boolean> {
    return this.apiKeys.revoke(idOrName, now);
  }

  async touchApiKey(id: string, now: number): Promise<void> {
    this.apiKeys.touch(id, now);
  }

  // idempotency keys

  async getIdempotency(apiKey: string, key: string, since: number): Promise<IdempotencyRecord | null> {
    return this.apiKeys.getIdempotency(apiKey, key, since);
  }

  async putIdempotency(record: IdempotencyRecord): Promise<boolean> {
    return this.apiKeys.putIdempotency(record);
  }

  async pruneIdempotency(before: number): Promise<number> {
    return this.apiKeys.pruneIdempotency(before);
  }

  // suppressions

  async addSuppression(s: Suppression): Promise<Suppression> {
    return this.suppressions.add(s);
  }

  async findSuppressions(addresses: string[]): Promise<Suppression[]> {
    return this.suppressions.find(addresses);
  }

  async listSuppressions(opts: { limit: number; after?: string }): Promise<Suppression[]> {
    return this.suppressions.list(opts.limit, opts.after);
  }

  async removeSuppression(address: string): Promise<boolean> {
    return this.suppressions.remove(address);
  }

  // message metadata and listings

  async putMessageMeta(meta: MessageMeta): Promise<void> {
    this.metas.put(meta);
  }

  async getMessageMeta(messageId: string): Promise<MessageMeta | null> {
    return this.metas.get(messageId);
  }

  async listMessages(filter: MessageListFilter): Promise<MessageListItem[]> {
    return this.metas.list(filter);
  }

  async countEvents(types: string[], from: number, to: number, bucketMs: number): Promise<EventCount[]> {
    return this.metas.countEvents(types, from, to, bucketMs);
  }

  // webhooks

  async addWebhook(endpoint: WebhookEndpoint): Promise<void> {
    return this.webhooks.add(endpoint);
  }

  async listWebhooks(): Promise<WebhookEndpoint[]> {
    return this.webhooks.list();
  }

  async getWebhook(id: string): Promise<WebhookEndpoint | null> {
    return this.webhooks.get(id);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    return this.webhooks.remove(id);
  }

  async setWebhookHealth(
    id: string,
    health: Pick<WebhookEndpoint, 'enabled' | 'failureCount' | 'failingSince'>,
  ): Promise<void> {
    return this.webhooks.setHealth(id, health);
  }

  async addWebhookDeliveries(deliveries: WebhookDelivery[]): Promise<void> {
    return this.webhooks.addDeliveries(deliveries);
  }

  async listWebhookDeliveries(
    endpointId: string,
    opts: { limit: number; status?: WebhookDeliveryStatus; before?: string },
  ): Promise<WebhookDelivery[]> {
    return this.webhooks.listDeliveries(endpointId, opts);
  }

  async getWebhookDelivery(id: string): Promise<WebhookDelivery | null> {
    return this.webhooks.getDelivery(id);
  }

  async dueWebhookDeliveries(now: number, limit: number): Promise<WebhookDelivery[]> {
    return this.webhooks.due(now, limit);
  }

  async updateWebhookDelivery(
    id: string,
    change: Pick<WebhookDelivery, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'updatedAt'>,
  ): Promise<void> {
    return this.webhooks.update(id, change);
  }

  async requeueWebhookDeliveries(endpointId: string, deliveryId: string | null, now: number): Promise<number> {
    return this.webhooks.requeue(endpointId, deliveryId, now);
  }
}
