/**
 * The Store contract. Every implementation (sqlite today, postgres later) passes the same
 * contract test suite in test/store/store-contract.ts. All methods are async so that a
 * networked implementation fits the same shape; timestamps are epoch milliseconds.
 */

/** How a local domain's mail is delivered. `relay:host:port` forwards to a smarthost. */
export type DomainTransport = 'mailbox' | 'maildir' | 'discard' | 'sandbox' | `relay:${string}`;

export interface Domain {
  name: string; // lower-case ASCII (A-label)
  transport: DomainTransport;
  createdAt: number;
}

export interface User {
  id: number;
  address: string; // local@domain, local part as given (case kept), domain lower-case
  passwordHash: string; // scrypt$N$r$p$salt$hash
  /** SCRAM-SHA-256 salted keys (RFC 5802), see Credentials. */
  scram: string | null;
  /** CRAM-MD5 secret, set only when CRAM-MD5 is enabled for this user, see Credentials. */
  cramSecret: string | null;
  disabled: boolean;
  quotaBytes: number | null;
  createdAt: number;
}

/**
 * The secrets a user logs in with, one per kind of SASL mechanism. Only `cramSecret` is
 * password-equivalent, which is why CRAM-MD5 is off unless enabled per user.
 */
export interface Credentials {
  /** scrypt hash, for PLAIN and LOGIN (and POP3/IMAP plain logins). */
  passwordHash: string;
  /** SCRAM-SHA-256: `iterations$salt$storedKey$serverKey`, the last three base64. */
  scram: string | null;
  /** CRAM-MD5: the password itself, base64; null unless enabled for the user. */
  cramSecret: string | null;
}

/** Failed logins counted for one IP address or one user within a window. */
export interface AuthFailureCount {
  count: number;
  firstAt: number | null;
  lastAt: number | null;
}

export interface AuthFailureEntry extends AuthFailureCount {
  kind: 'ip' | 'user';
  key: string;
}

export type DkimAlgorithm = 'rsa-2048' | 'ed25519';

export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  privateKey: string;
  /** The `p=` value of the DNS record: base64 of the SubjectPublicKeyInfo (RSA) or raw key (Ed25519). */
  publicKey: string;
  /** The key new mail is signed with; other keys of the domain stay published until removed. */
  active: boolean;
  createdAt: number;
}

export interface Alias {
  /** `local@domain` or `@domain` for a catch-all. */
  source: string;
  destinations: string[];
  createdAt: number;
}

/** Recipient states, as DESIGN.md names them. */
export type RecipientState = 'queued' | 'deferred' | 'delivering' | 'delivered' | 'bounced' | 'held' | 'expired';

/** DSN NOTIFY (RFC 3461): NEVER, or any of SUCCESS, FAILURE, DELAY. */
export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface NewRecipient {
  address: string;
  /** ORCPT parameter, decoded: `rfc822;user@example.com`. */
  orcpt: string | null;
  notify: DsnNotify[] | null;
}

export interface NewMessage {
  id: string;
  mailFrom: string; // '' for the null reverse-path
  /** Body type declared at MAIL FROM: 7BIT, 8BITMIME or BINARYMIME. */
  bodyType: '7BIT' | '8BITMIME' | 'BINARYMIME';
  smtputf8: boolean;
  dsnRet: 'FULL' | 'HDRS' | null;
  dsnEnvid: string | null;
  size: number; // bytes of the stored message, including our Received: header
  /** `fs:…` for a body in the BlobStore, `db:<id>` for a body stored inline (see `body`). */
  blobRef: string;
  receivedAt: number;
  /**
   * The body itself, for small messages: stored in the same transaction as the envelope,
   * under `blobRef` = `db:<id>`, so one commit makes both durable.
   */
  body?: Buffer;
  /** Who handed it to us: client IP, HELO, TLS, auth user, listener. Free-form for logs and the timeline. */
  client: Record<string, unknown>;
  recipients: NewRecipient[];
  /**
   * Quarantine: when set, every recipient is stored `held` with this text as its last reply
   * (a policy or scanner verdict), so nothing is delivered until an operator releases it.
   */
  holdReason?: string;
  /** Scheduled sending: recipients are first due at this time instead of at once. */
  notBefore?: number;
}

export interface Message extends Omit<NewMessage, 'recipients' | 'body' | 'holdReason' | 'notBefore'> {}

export interface Recipient {
  id: number;
  messageId: string;
  address: string;
  orcpt: string | null;
  notify: DsnNotify[] | null;
  state: RecipientState;
  attempts: number;
  nextAttemptAt: number;
  lastReply: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  updatedAt: number;
  /** When a delay warning DSN was queued for this recipient; null while none was. */
  delayNotifiedAt: number | null;
}

/** The outcome of one delivery attempt, applied atomically with the lease release. */
export interface DeliveryResult {
  recipientId: number;
  /** Node that holds the lease; the update is refused if the lease moved on. */
  leaseOwner: string;
  state: 'delivered' | 'deferred' | 'bounced' | 'expired';
  reply: string;
  nextAttemptAt?: number;
  /**
   * A delay warning DSN was queued for this recipient along with this outcome: record it (at
   * `now`) so it is sent once. An earlier record is kept; false or absent leaves it as it is.
   */
  delayNotified?: boolean;
}

export interface Mailbox {
  id: number;
  userId: number;
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  specialUse: string | null;
}

export interface MailboxMessage {
  mailboxId: number;
  uid: number;
  blobRef: string;
  size: number;
  flags: string[];
  internalDate: number;
  modseq: number;
  /** The IMAP BODYSTRUCTURE/ENVELOPE cache (JSON, written by IMAP), or null until computed. */
  structure: string | null;
}

/** A new message for appendMailboxMessage. */
export interface NewMailboxMessage {
  blobRef: string;
  size: number;
  flags: string[];
  internalDate: number;
  dedupeKey?: string | null;
  structure?: string | null;
}

/** A flag update on some messages of one mailbox (IMAP STORE). */
export interface FlagChange {
  uids: number[];
  mode: 'add' | 'remove' | 'replace';
  flags: string[];
  /** CONDSTORE UNCHANGEDSINCE: messages with a higher modseq are left alone and listed in `failed`. */
  unchangedSince?: number;
}

/** What a flag update did: messages whose flags changed (all with one new modseq) and conflicts. */
export interface FlagChangeResult {
  changed: MailboxMessage[];
  /** UIDs skipped because their modseq was above `unchangedSince`. */
  failed: number[];
  highestModseq: number;
}

/** Messages removed from a mailbox, with the modseq their removal was recorded at. */
export interface ExpungeResult {
  expunged: { uid: number; blobRef: string; size: number }[];
  /** The mailbox's highest modseq after the expunge (unchanged when nothing was expunged). */
  modseq: number;
}

/** UIDs given to copies (UIDPLUS COPYUID), in source UID order. */
export interface CopyResult {
  uidValidity: number;
  mapping: { from: number; to: number }[];
  /** For a move: what left the source mailbox. */
  expunged: ExpungeResult | null;
}

/** Space used by a user's mailboxes. */
export interface MailboxUsage {
  bytes: number;
  messages: number;
}

export interface StoredEvent {
  id: number;
  at: number;
  messageId: string | null;
  recipient: string | null;
  type: string;
  detail: Record<string, unknown>;
}

export interface NewEvent {
  at: number;
  messageId: string | null;
  recipient?: string | null;
  type: string;
  detail?: Record<string, unknown>;
}

export interface QueueFilter {
  states?: RecipientState[];
  messageId?: string;
  /** Only recipients at this domain (case-insensitive, exact: `example.com` does not match `sub.example.com`). */
  domain?: string;
  /** Only recipients of messages received before this time. */
  olderThan?: number;
  limit?: number;
}

/** A message in the queue with all its recipients (in the order given), for the queue tools. */
export interface QueuedMessage extends Message {
  recipients: Recipient[];
}

/** What purgeMessages deleted; the caller removes the blob once blobInUse says nothing else uses it. */
export interface PurgedMessage {
  id: string;
  blobRef: string;
  /** The recipients as they were when deleted, for the timeline. */
  recipients: Recipient[];
}

export interface QueueSummary {
  byState: Partial<Record<RecipientState, number>>;
  total: number;
}

/** One greylisting triplet: client network, envelope sender and recipient. */
export interface GreylistEntry {
  /** The triplet, as the greylist policy builds it (lower-case). */
  key: string;
  /** The client network (`/24` or `/64`), for auto-allowing clients that retry. */
  client: string;
  firstSeen: number;
  lastSeen: number;
  /** When a retry after the delay passed; null while it still waits. */
  passedAt: number | null;
}

/** The answer of a sliding-window rate counter. */
export interface RateDecision {
  allowed: boolean;
  /** The weighted count in the window, this hit included when it was allowed. */
  count: number;
  /** When refused: milliseconds until one more would be allowed. */
  retryAfter: number;
}

/** An HTTP API key; the secret itself is never stored, only its sha256. */
export interface ApiKey {
  id: string;
  name: string;
  /** sha256 of the secret, hex. */
  hash: string;
  scopes: string[];
  /** When set, the key may send only from addresses of this domain. */
  domain: string | null;
  /** Per-key rate limit such as `100/min`; null uses the configured default. */
  rateLimit: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** The first response given to an Idempotency-Key. */
export interface IdempotencyRecord {
  apiKey: string;
  key: string;
  bodyHash: string;
  status: number;
  response: string;
  createdAt: number;
}

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual';

export interface Suppression {
  /** Lower-case address. */
  address: string;
  reason: SuppressionReason;
  detail: string | null;
  messageId: string | null;
  createdAt: number;
}

/** Where events are POSTed (HTTP API webhooks). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types sent, or ['*'] for all. */
  events: string[];
  /** `whsec_` followed by the base64 signing key. */
  secret: string;
  enabled: boolean;
  /** Deliveries in a row that ran out of retries. */
  failureCount: number;
  /** First failed attempt since the last success, or null. */
  failingSince: number | null;
  createdAt: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint, and how sending it went. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** The JSON body sent. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What the API stores about a message beyond its envelope. */
export interface MessageMeta {
  messageId: string;
  apiKey: string | null;
  subject: string | null;
  tags: string[];
  metadata: Record<string, string>;
  createdAt: number;
}

export interface MessageListFilter {
  /** Messages with at least one recipient in this state (now, or as last recorded on the timeline). */
  status?: string;
  recipient?: string;
  tag?: string;
  /** Received at or after (epoch ms). */
  since?: number;
  /** Received before (epoch ms). */
  until?: number;
  /** Continue after this position (from a previous page's `next`). */
  before?: number;
  limit: number;
}

/** One message in a listing: its `received` event, newest first, with its metadata. */
export interface MessageListItem {
  /** Position for cursor pagination. */
  position: number;
  messageId: string;
  receivedAt: number;
  detail: Record<string, unknown>;
  meta: MessageMeta | null;
}

/** How many events of one type fell into one time bucket. */
export interface EventCount {
  /** Start of the bucket (epoch ms). */
  bucket: number;
  type: string;
  count: number;
}

/** The durable state of mailroom. */
export interface Store {
  readonly driver: 'sqlite' | 'postgres';

  /** Apply pending migrations; safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // domains
  addDomain(name: string, transport: DomainTransport): Promise<Domain>;
  getDomain(name: string): Promise<Domain | null>;
  listDomains(): Promise<Domain[]>;
  /** Removes the domain; returns false when it did not exist. */
  removeDomain(name: string): Promise<boolean>;

  // users
  addUser(
    address: string,
    passwordHash: string,
    opts?: { quotaBytes?: number | null; scram?: string | null; cramSecret?: string | null },
  ): Promise<User>;
  /** Case-insensitive lookup on the whole address. */
  getUser(address: string): Promise<User | null>;
  getUserById(id: number): Promise<User | null>;
  listUsers(domain?: string): Promise<User[]>;
  setPassword(address: string, passwordHash: string): Promise<boolean>;
  /** Replace all login secrets at once (password change); false when the user does not exist. */
  setCredentials(address: string, credentials: Credentials): Promise<boolean>;
  setUserDisabled(address: string, disabled: boolean): Promise<boolean>;
  removeUser(address: string): Promise<boolean>;

  // sender grants: extra addresses a user may send as (`mailroom user allow-sender`)
  addSenderGrant(user: string, address: string): Promise<void>;
  removeSenderGrant(user: string, address: string): Promise<boolean>;
  /** Granted addresses of a user, lower-cased, sorted. */
  listSenderGrants(user: string): Promise<string[]>;

  // failed logins (brute-force protection), counted per IP and per user
  /**
   * Count one failure. Failures older than `windowMs` (counted from the first one in the window)
   * are forgotten first, so the count is always of one window.
   */
  recordAuthFailure(kind: 'ip' | 'user', key: string, now: number, windowMs: number): Promise<AuthFailureCount>;
  getAuthFailures(kind: 'ip' | 'user', key: string, now: number, windowMs: number): Promise<AuthFailureCount>;
  /** Forget the failures of one IP or user (after a success, or `mailroom user unlock`). */
  clearAuthFailures(kind: 'ip' | 'user', key: string): Promise<boolean>;
  /** Forget counters whose last failure is before `before` (housekeeping); returns how many. */
  pruneAuthFailures(before: number): Promise<number>;
  /** Every IP and user with failures since `since`, most recent first. */
  listAuthFailures(since: number): Promise<AuthFailureEntry[]>;

  // DKIM keys
  /** Store a key; the first key of a domain becomes active. */
  addDkimKey(key: Omit<DkimKey, 'active' | 'createdAt'> & { active?: boolean }): Promise<DkimKey>;
  listDkimKeys(domain?: string): Promise<DkimKey[]>;
  /** The key to sign with for a domain, or null. */
  getActiveDkimKey(domain: string): Promise<DkimKey | null>;
  /** Make one selector the signing key (the others stay, for rotation). */
  activateDkimKey(domain: string, selector: string): Promise<boolean>;
  removeDkimKey(domain: string, selector: string): Promise<boolean>;

  // aliases
  addAlias(source: string, destinations: string[]): Promise<Alias>;
  getAlias(source: string): Promise<Alias | null>;
  listAliases(domain?: string): Promise<Alias[]>;
  /** Removes the whole alias, or only the given destinations of it. */
  removeAlias(source: string, destinations?: string[]): Promise<boolean>;

  // messages and the queue
  /**
   * Commit envelopes and their recipients (state `queued`) in one transaction, each with its
   * `received` timeline event. The blobs they reference must already be durable (or come
   * inline as `body`). Several messages in one call is the group commit.
   */
  commitMessages(messages: NewMessage[]): Promise<void>;
  getMessage(id: string): Promise<Message | null>;
  getRecipients(messageId: string): Promise<Recipient[]>;
  /** Delete a message and its recipients (all must be final); returns its blob ref. */
  deleteMessage(id: string): Promise<string | null>;
  /**
   * deleteMessage for many in one transaction; returns what was deleted (others are skipped).
   * `blobRemoved`: the store also removed the body in that transaction (an inline body no
   * mailbox shares), so the caller has nothing left to remove.
   */
  deleteMessages(ids: string[]): Promise<{ id: string; blobRef: string; blobRemoved?: boolean }[]>;
  /**
   * Lease up to `limit` due recipients (`queued`/`deferred` with next_attempt_at <= now, or
   * `delivering` whose lease expired) for `leaseMs`; they become `delivering` owned by `node`.
   */
  claimDue(node: string, limit: number, now: number, leaseMs: number): Promise<Recipient[]>;
  /**
   * Make every `delivering` recipient due now, dropping its lease. Only for a store that one
   * process owns (SQLite): at start, any lease left is from a previous run of this node.
   */
  recoverLeases(now: number): Promise<number>;
  /** Extend leases still held by `node`; returns the ids still held. */
  renewLeases(node: string, recipientIds: number[], until: number): Promise<number[]>;
  /**
   * Apply delivery outcomes; each applies only while `leaseOwner` still holds the lease.
   * Durable (fsync'd before it resolves) unless `durable: false`, which callers may use when
   * redoing the deliveries after a lost update is harmless (idempotent local delivery).
   */
  completeDeliveries(results: DeliveryResult[], now: number, opts?: { durable?: boolean }): Promise<number>;
  /** Earliest next_attempt_at of any waiting recipient, or null when none waits. */
  nextDueAt(): Promise<number | null>;
  listQueue(filter?: QueueFilter): Promise<Recipient[]>;
  queueSummary(): Promise<QueueSummary>;
  /** Hold / release / retry-now for recipients not being delivered; returns how many changed. */
  setRecipientState(ids: number[], state: 'held' | 'queued', now: number): Promise<number>;
  /** Messages whose every recipient is final (delivered/bounced/expired), oldest first. */
  listFinishedMessages(limit: number): Promise<string[]>;
  /**
   * Messages with at least one recipient matching the filter's `states` and `domain`, received
   * before `olderThan`, oldest first, at most `limit` messages; each with all its recipients.
   */
  listQueueMessages(filter?: QueueFilter): Promise<QueuedMessage[]>;
  /**
   * Move recipients now in one of `from` to `to` (held, or queued and due at `now`). Recipients
   * being delivered, final or already in `to` are left alone. Returns those that moved, as they are now.
   */
  changeRecipientStates(
    ids: number[],
    from: RecipientState[],
    to: 'held' | 'queued',
    now: number,
  ): Promise<Recipient[]>;
  /**
   * Delete messages and their recipients whatever their state, in one durable transaction. A
   * message with a recipient being delivered is skipped, as are unknown ids.
   */
  purgeMessages(ids: string[]): Promise<PurgedMessage[]>;

  // mailboxes
  /** Get or create the named mailbox of a user. */
  ensureMailbox(userId: number, name: string, specialUse?: string | null): Promise<Mailbox>;
  getMailbox(userId: number, name: string): Promise<Mailbox | null>;
  listMailboxes(userId: number): Promise<Mailbox[]>;
  /**
   * Append a message to a mailbox, assigning the next UID and MODSEQ atomically.
   * `dedupeKey` (e.g. `recipientId`) makes a repeated append a no-op returning the first UID,
   * so a retried delivery after a crash never shows the message twice.
   */
  appendMailboxMessage(mailboxId: number, msg: NewMailboxMessage): Promise<MailboxMessage>;
  listMailboxMessages(mailboxId: number): Promise<MailboxMessage[]>;
  /** Whether any mailbox message or queued message still references the blob. */
  blobInUse(blobRef: string): Promise<boolean>;
  /** An inline body stored with commitMessages (`db:<id>` refs), or null. */
  readInlineBody(id: string): Promise<Buffer | null>;
  /** Delete an inline body; false when it did not exist. */
  deleteInlineBody(id: string): Promise<boolean>;

  // mailbox model (IMAP and POP3)
  getMailboxById(id: number): Promise<Mailbox | null>;
  /**
   * Rename a mailbox and every mailbox below it (`from/…` becomes `to/…`) in one transaction;
   * each keeps its UIDVALIDITY and messages. StoreNotFoundError when `from` does not exist,
   * StoreConflictError when `to` (or a renamed child) already does.
   */
  renameMailbox(userId: number, from: string, to: string): Promise<Mailbox>;
  /** Delete one mailbox and its messages (not its children); returns the blob refs it held. */
  deleteMailbox(mailboxId: number): Promise<string[] | null>;
  /** Messages with a modseq above `changedSince` (all when absent), in UID order. */
  listMailboxMessagesSince(mailboxId: number, changedSince: number): Promise<MailboxMessage[]>;
  /** The messages with these UIDs that exist, in UID order. */
  getMailboxMessages(mailboxId: number, uids: number[]): Promise<MailboxMessage[]>;
  /** Add, remove or replace flags; every changed message gets the same new modseq. */
  storeMailboxFlags(mailboxId: number, change: FlagChange): Promise<FlagChangeResult>;
  /**
   * Remove messages flagged \Deleted (all of them, or those among `uids`); `deletedOnly: false`
   * removes the given UIDs whatever their flags. Removed UIDs are recorded for listExpungedUids.
   */
  expungeMailboxMessages(mailboxId: number, opts?: { uids?: number[]; deletedOnly?: boolean }): Promise<ExpungeResult>;
  /** UIDs expunged with a modseq above `sinceModseq`, ascending (QRESYNC VANISHED). */
  listExpungedUids(mailboxId: number, sinceModseq: number): Promise<number[]>;
  /**
   * Copy messages (sharing their blobs) into another mailbox with new UIDs, in one transaction;
   * with `move` they leave the source in the same transaction.
   */
  copyMailboxMessages(fromId: number, toId: number, uids: number[], opts?: { move?: boolean }): Promise<CopyResult>;
  /** Store the IMAP structure cache of one message; false when it does not exist. */
  setMailboxMessageStructure(mailboxId: number, uid: number, structure: string): Promise<boolean>;
  /** Subscribe (or unsubscribe) a mailbox name; false when nothing changed. */
  setSubscription(userId: number, name: string, subscribed: boolean): Promise<boolean>;
  /** Subscribed names of a user, sorted. */
  listSubscriptions(userId: number): Promise<string[]>;
  /** Bytes and messages in all of a user's mailboxes. */
  mailboxUsage(userId: number): Promise<MailboxUsage>;
  /** Set a user's quota in bytes (null: the configured default); false when the user does not exist. */
  setUserQuota(address: string, quotaBytes: number | null): Promise<boolean>;

  // events (timeline)
  appendEvents(events: NewEvent[]): Promise<void>;
  listEvents(messageId: string): Promise<StoredEvent[]>;

  // inbound trust: greylisting and rate limits (shared by every node)
  getGreylist(key: string): Promise<GreylistEntry | null>;
  /** Insert or replace a triplet. */
  saveGreylist(entry: GreylistEntry): Promise<void>;
  /** Triplets of a client network that passed at or after `since`. */
  countGreylistPasses(client: string, since: number): Promise<number>;
  /** Forget triplets last seen before `before`; returns how many. */
  pruneGreylist(before: number): Promise<number>;
  /**
   * Count one hit on `key` in a sliding window of `windowMs` (the previous fixed window weighted
   * by how much of it still overlaps), unless that would pass `limit`: then nothing is counted.
   */
  takeRate(key: string, now: number, windowMs: number, limit: number): Promise<RateDecision>;
  /** Forget counters untouched since `before`; returns how many. */
  pruneRates(before: number): Promise<number>;
  // HTTP API keys
  addApiKey(key: Omit<ApiKey, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKey>;
  /** The key with this secret hash (revoked ones too), or null. */
  getApiKeyByHash(hash: string): Promise<ApiKey | null>;
  listApiKeys(): Promise<ApiKey[]>;
  /** Revoke by id or name; false when no live key matched. */
  revokeApiKey(idOrName: string, now: number): Promise<boolean>;
  touchApiKey(id: string, now: number): Promise<void>;

  // idempotency keys
  getIdempotency(apiKey: string, key: string, since: number): Promise<IdempotencyRecord | null>;
  /** Store the first response for a key; false when one already exists (a concurrent request won). */
  putIdempotency(record: IdempotencyRecord): Promise<boolean>;
  /** Forget records older than `before`; returns how many. */
  pruneIdempotency(before: number): Promise<number>;

  // suppressions
  /** Add or refresh a suppression (the address is lower-cased). */
  addSuppression(s: Omit<Suppression, 'address'> & { address: string }): Promise<Suppression>;
  /** The suppressions among `addresses` (compared lower-case). */
  findSuppressions(addresses: string[]): Promise<Suppression[]>;
  /** In address order; `after` continues from a previous page's last address. */
  listSuppressions(opts: { limit: number; after?: string }): Promise<Suppression[]>;
  removeSuppression(address: string): Promise<boolean>;

  // message metadata and listings (HTTP API)
  putMessageMeta(meta: MessageMeta): Promise<void>;
  getMessageMeta(messageId: string): Promise<MessageMeta | null>;
  listMessages(filter: MessageListFilter): Promise<MessageListItem[]>;
  /** Events of `types` in [from, to), counted per bucket of `bucketMs` starting at `from`. */
  countEvents(types: string[], from: number, to: number, bucketMs: number): Promise<EventCount[]>;

  // webhooks
  addWebhook(endpoint: WebhookEndpoint): Promise<void>;
  /** In creation order. */
  listWebhooks(): Promise<WebhookEndpoint[]>;
  getWebhook(id: string): Promise<WebhookEndpoint | null>;
  /** Remove an endpoint with its deliveries. */
  deleteWebhook(id: string): Promise<boolean>;
  setWebhookHealth(
    id: string,
    health: Pick<WebhookEndpoint, 'enabled' | 'failureCount' | 'failingSince'>,
  ): Promise<void>;
  addWebhookDeliveries(deliveries: WebhookDelivery[]): Promise<void>;
  /** Newest first; `before` continues from a previous page's last id. */
  listWebhookDeliveries(
    endpointId: string,
    opts: { limit: number; status?: WebhookDeliveryStatus; before?: string },
  ): Promise<WebhookDelivery[]>;
  getWebhookDelivery(id: string): Promise<WebhookDelivery | null>;
  /** Pending deliveries of enabled endpoints whose next attempt is at or before `now`, oldest first. */
  dueWebhookDeliveries(now: number, limit: number): Promise<WebhookDelivery[]>;
  updateWebhookDelivery(
    id: string,
    change: Pick<WebhookDelivery, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'updatedAt'>,
  ): Promise<void>;
  /** Make failed deliveries of an endpoint (or just `deliveryId`) pending again, due at `now`; returns how many. */
  requeueWebhookDeliveries(endpointId: string, deliveryId: string | null, now: number): Promise<number>;
}

/** Durable storage for message bodies. Refs are opaque strings. */
export interface BlobStore {
  /**
   * Open a writer for a new blob. `commit()` makes it durable (file and directory fsync'd) and
   * returns its ref; `abort()` removes what was written.
   */
  create(id: string): Promise<BlobWriter>;
  /** The whole blob. */
  read(ref: string): Promise<Buffer>;
  /** Stream the blob. */
  stream(ref: string): NodeJS.ReadableStream;
  size(ref: string): Promise<number>;
  remove(ref: string): Promise<void>;
}

export interface BlobWriter {
  readonly id: string;
  /** Bytes written so far. */
  readonly size: number;
  write(chunk: Buffer): Promise<void>;
  commit(): Promise<string>;
  abort(): Promise<void>;
}
