/**
 * SQLite schema, as an ordered list of migrations. Applied migrations are never edited: a
 * change to the schema is a new entry at the end, so every database reaches the same shape.
 * The SQL lives in TypeScript strings so the build has no extra files to copy.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE domains (
  name        TEXT PRIMARY KEY,
  transport   TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

-- address keeps the local part as given; address_key is the lower-cased whole address that
-- every lookup uses. No foreign key to domains: users may be created before their domain.
CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  address        TEXT NOT NULL,
  address_key    TEXT NOT NULL UNIQUE,
  domain         TEXT NOT NULL,
  password_hash  TEXT NOT NULL,
  disabled       INTEGER NOT NULL DEFAULT 0,
  quota_bytes    INTEGER,
  created_at     INTEGER NOT NULL
);
CREATE INDEX users_domain ON users (domain);

CREATE TABLE aliases (
  source        TEXT PRIMARY KEY,
  domain        TEXT NOT NULL,
  destinations  TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE INDEX aliases_domain ON aliases (domain);

CREATE TABLE messages (
  id           TEXT PRIMARY KEY,
  mail_from    TEXT NOT NULL,
  body_type    TEXT NOT NULL,
  smtputf8     INTEGER NOT NULL,
  dsn_ret      TEXT,
  dsn_envid    TEXT,
  size         INTEGER NOT NULL,
  blob_ref     TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  client       TEXT NOT NULL
);
CREATE INDEX messages_received ON messages (received_at, id);
CREATE INDEX messages_blob ON messages (blob_ref);

CREATE TABLE recipients (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id       TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  address          TEXT NOT NULL,
  orcpt            TEXT,
  notify           TEXT,
  state            TEXT NOT NULL CHECK (state IN
                     ('queued', 'deferred', 'delivering', 'delivered', 'bounced', 'held', 'expired')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_reply       TEXT,
  lease_owner      TEXT,
  lease_until      INTEGER,
  updated_at       INTEGER NOT NULL
);
-- claimDue reads both: due waiting recipients, and delivering ones whose lease ran out.
CREATE INDEX recipients_due ON recipients (state, next_attempt_at);
CREATE INDEX recipients_lease ON recipients (state, lease_until);
CREATE INDEX recipients_message ON recipients (message_id);

CREATE TABLE mailboxes (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  uid_validity    INTEGER NOT NULL,
  uid_next        INTEGER NOT NULL,
  highest_modseq  INTEGER NOT NULL,
  special_use     TEXT,
  UNIQUE (user_id, name)
);

CREATE TABLE mailbox_messages (
  mailbox_id     INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid            INTEGER NOT NULL,
  blob_ref       TEXT NOT NULL,
  size           INTEGER NOT NULL,
  flags          TEXT NOT NULL,
  internal_date  INTEGER NOT NULL,
  modseq         INTEGER NOT NULL,
  dedupe_key     TEXT,
  PRIMARY KEY (mailbox_id, uid)
);
CREATE UNIQUE INDEX mailbox_messages_dedupe ON mailbox_messages (mailbox_id, dedupe_key)
  WHERE dedupe_key IS NOT NULL;
CREATE INDEX mailbox_messages_blob ON mailbox_messages (blob_ref);

-- No foreign key to messages: the timeline outlives the queue entry.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  message_id  TEXT,
  recipient   TEXT,
  type        TEXT NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX events_message ON events (message_id, id);
`,
  },
  {
    version: 2,
    name: 'inline bodies',
    // Small message bodies live in the same transaction as their envelope: one fsync per group
    // commit instead of a file, its fsync and a directory fsync per message.
    sql: `
CREATE TABLE blobs (
  id    TEXT PRIMARY KEY,
  data  BLOB NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 3,
    name: 'submission: credentials, sender grants, failed logins, DKIM keys',
    sql: `
-- SCRAM-SHA-256 salted keys, and the CRAM-MD5 secret (only for users with CRAM-MD5 enabled).
ALTER TABLE users ADD COLUMN scram TEXT;
ALTER TABLE users ADD COLUMN cram_secret TEXT;

-- Extra addresses a user may send as: local@domain or @domain, lower-case.
CREATE TABLE sender_grants (
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  address     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (user_id, address)
);

-- Failed logins per IP ('ip') and per user ('user') in the current window.
CREATE TABLE auth_failures (
  kind      TEXT NOT NULL CHECK (kind IN ('ip', 'user')),
  key       TEXT NOT NULL,
  count     INTEGER NOT NULL,
  first_at  INTEGER NOT NULL,
  last_at   INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX auth_failures_last ON auth_failures (last_at);

-- No foreign key to domains: a domain may come from the configuration file only.
CREATE TABLE dkim_keys (
  domain       TEXT NOT NULL,
  selector     TEXT NOT NULL,
  algorithm    TEXT NOT NULL CHECK (algorithm IN ('rsa-2048', 'ed25519')),
  private_key  TEXT NOT NULL,
  public_key   TEXT NOT NULL,
  active       INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (domain, selector)
);
-- At most one signing key per domain.
CREATE UNIQUE INDEX dkim_keys_active ON dkim_keys (domain) WHERE active = 1;
`,
  },
  {
    version: 4,
    name: 'queue: delay warnings',
    // Set once the delay warning DSN for a recipient is queued, so it is sent only once.
    sql: `
ALTER TABLE recipients ADD COLUMN delay_notified_at INTEGER;
`,
  },
  {
    version: 5,
    name: 'mailbox model: expunge log, subscriptions, structure cache',
    sql: `
-- The IMAP BODYSTRUCTURE/ENVELOPE cache, computed once so FETCH never re-parses a body.
ALTER TABLE mailbox_messages ADD COLUMN structure TEXT;
-- CONDSTORE: FETCH/SEARCH CHANGEDSINCE read messages by modseq.
CREATE INDEX mailbox_messages_modseq ON mailbox_messages (mailbox_id, modseq);

-- Expunged UIDs with the modseq of their expunge, so QRESYNC can answer VANISHED (RFC 7162).
CREATE TABLE mailbox_expunged (
  mailbox_id  INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid         INTEGER NOT NULL,
  modseq      INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX mailbox_expunged_modseq ON mailbox_expunged (mailbox_id, modseq);

-- IMAP subscriptions are names, not mailboxes: a name may be subscribed before it exists.
CREATE TABLE mailbox_subscriptions (
  user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name     TEXT NOT NULL,
  PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

-- Highest UIDVALIDITY ever handed out, so a deleted and re-created mailbox never reuses one.
CREATE TABLE mailbox_counters (
  name   TEXT PRIMARY KEY,
  value  INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 6,
    name: 'inbound trust: greylisting and rate limits',
    sql: `
-- Greylisting triplets (client network, sender, recipient), lower-case.
CREATE TABLE greylist (
  key         TEXT PRIMARY KEY,
  client      TEXT NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  passed_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX greylist_client ON greylist (client, passed_at);
CREATE INDEX greylist_last_seen ON greylist (last_seen);

-- Sliding-window rate counters: the count of the current fixed window and of the one before.
CREATE TABLE rate_counters (
  key           TEXT PRIMARY KEY,
  window_start  INTEGER NOT NULL,
  window_ms     INTEGER NOT NULL,
  current       INTEGER NOT NULL,
  previous      INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_counters_updated ON rate_counters (updated_at);
`,
  },
  {
    version: 9,
    name: 'http api: keys, idempotency, suppressions, message metadata',
    sql: `
-- API keys: only the sha256 of the secret is kept (keys are 32 random bytes, so no slow hash is needed).
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  hash          TEXT NOT NULL UNIQUE,
  scopes        TEXT NOT NULL,
  domain        TEXT,
  rate_limit    TEXT,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);

-- Idempotency-Key: the first response to a key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
  api_key     TEXT NOT NULL,
  idem_key    TEXT NOT NULL,
  body_hash   TEXT NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (api_key, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Addresses mail is never sent to (lower-case): hard bounces, complaints, or added by hand.
CREATE TABLE suppressions (
  address     TEXT PRIMARY KEY,
  reason      TEXT NOT NULL,
  detail      TEXT,
  message_id  TEXT,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- What the API knows about a message beyond its envelope; outlives the queue entry like the timeline.
CREATE TABLE message_meta (
  message_id  TEXT PRIMARY KEY,
  api_key     TEXT,
  subject     TEXT,
  tags        TEXT NOT NULL,
  metadata    TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Stats count events by type over time windows; message listings filter by recipient.
CREATE INDEX events_type_at ON events (type, at);
CREATE INDEX events_recipient ON events (recipient, message_id) WHERE recipient IS NOT NULL;
`,
  },
  {
    version: 10,
    name: 'webhooks: endpoints and their deliveries',
    sql: `
-- Webhook endpoints: events (JSON list of types, or ["*"]) are POSTed to url, signed with secret.
CREATE TABLE webhook_endpoints (
  id             TEXT PRIMARY KEY,
  url            TEXT NOT NULL,
  events         TEXT NOT NULL,
  secret         TEXT NOT NULL,
  enabled        INTEGER NOT NULL,
  failure_count  INTEGER NOT NULL,
  failing_since  INTEGER,
  created_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per event per endpoint, written when the event is emitted, so a restart loses nothing.
CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,
  endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL,
  attempts         INTEGER NOT NULL,
  next_attempt_at  INTEGER,
  last_status      INTEGER,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
`,
  },
];
