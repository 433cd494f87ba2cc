import os from 'node:os';
import { z } from 'zod';

/** Durations in config: a number of milliseconds or `30s`, `5m`, `1h`, `5d`. */
const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration, expected e.g. 30s, 5m, 1h, 5d` });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
});

/** Byte sizes: a number or `25MB`, `64KB`, `1GB` (binary multiples). */
const byteSize = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size, expected e.g. 64KB, 25MB` });
    return z.NEVER;
  }
  const unit = (m[2] ?? 'b').toLowerCase()[0] as 'b' | 'k' | 'm' | 'g';
  return Math.round(Number(m[1]) * { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit]);
});

/** What to do with a message when a scanner fails or times out. */
const scanFailure = z.enum(['accept', 'tempfail', 'reject']).default('accept');

/** A scanner's socket: `host:port`, `[v6]:port`, `inet:port@host`, `unix:/path` or `/path`. */
const socketAddress = z
  .string()
  .regex(
    /^(?:\/.+|(?:unix|local):.+|inet6?:\d+@.+|\[[^\]]+\]:\d+|[^:\s]+:\d+)$/i,
    'expected host:port, [v6]:port, inet:port@host, unix:/path or /path',
  );

/** A rate such as `100/min`, `10/s`, `5000/1h`: how many per how long. */
const rate = z.string().transform((v, ctx) => {
  const m = /^(\d+)\s*\/\s*(?:(\d+(?:\.\d+)?)\s*)?(ms|s|sec|second|m|min|minute|h|hour|d|day)$/i.exec(v.trim());
  const count = Number(m?.[1]);
  if (!m || count < 1) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate, expected e.g. 100/min, 10/s, 5000/1h` });
    return z.NEVER;
  }
  const unit = (m[3] as string).toLowerCase();
  const ms = unit === 'ms' ? 1 : { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit[0] as 's' | 'm' | 'h' | 'd'];
  return { count, per: Math.round(Number(m[2] ?? 1) * ms) };
});

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, {
    message: 'must be a DNS host name such as mx.example.com',
  });

const domainName = hostname.transform((s) => s.toLowerCase());

const cidr = z.string().refine((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s), {
  message: 'must be an IP address or CIDR range such as 127.0.0.0/8 or ::1/128',
});

export const listenerProtocols = [
  'smtp',
  'submission',
  'submissions',
  'imap',
  'imaps',
  'pop3',
  'pop3s',
  'http',
] as const;
export type ListenerProtocol = (typeof listenerProtocols)[number];

const listener = z
  .object({
    protocol: z.enum(listenerProtocols),
    address: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    /** HTTP listeners only: serve HTTPS with the server's certificate (see `tls`). */
    tls: z.boolean().optional(),
  })
  .strict();

const transport = z.string().refine((s) => /^(mailbox|maildir|discard|sandbox|relay:[^:\s]+(:\d{1,5})?)$/.test(s), {
  message: 'must be one of mailbox, maildir, discard, sandbox or relay:HOST:PORT',
});

/** What to do with a message a check has an opinion on. `tag` accepts it (the verdict is in its headers). */
const action = z.enum(['tag', 'reject', 'tempfail', 'quarantine']);

const dnsblZone = z
  .object({
    zone: hostname,
    /** Answers (127.0.0.x) that count as listed, with what each means; empty: any answer counts. */
    codes: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/** The `inbound` section; defaults follow docs/security.md. */
function inboundSchema() {
  return z
    .object({
      /** Client networks that skip blocklists, rDNS/HELO checks, greylisting and rate limits. */
      allow: z.array(cidr).default([]),
      authentication: z
        .object({
          /** SPF, DKIM, DMARC and ARC checks and the Authentication-Results header. */
          enabled: z.boolean().default(true),
          spf: z
            .object({
              fail: action.default('tag'),
              softfail: action.default('tag'),
              temperror: action.default('tag'),
              permerror: action.default('tag'),
            })
            .strict()
            .prefault({}),
          dmarc: z
            .object({
              /** A failing message whose domain publishes p=reject. */
              reject: action.default('reject'),
              /** A failing message whose domain publishes p=quarantine. */
              quarantine: action.default('tag'),
              temperror: action.default('tag'),
            })
            .strict()
            .prefault({}),
          /** Sealers whose passing ARC chain overrides a DMARC failure (e.g. a trusted mailing list). */
          arcTrustedSealers: z.array(domainName).default([]),
          /** ARC-seal messages forwarded by an alias to a remote address, with the alias domain's DKIM key. */
          seal: z.boolean().default(true),
        })
        .strict()
        .prefault({}),
      dnsbl: z
        .object({
          zones: z.array(dnsblZone).default([]),
        })
        .strict()
        .prefault({}),
      /** Refuse clients whose address has no PTR name that resolves back to it. */
      requireReverseDns: z.boolean().default(false),
      helo: z
        .object({
          /** Refuse HELO names that are not fully qualified domain names (or address literals). */
          requireFqdn: z.boolean().default(false),
          /** Refuse clients that greet with our own host name. */
          rejectOurName: z.boolean().default(false),
        })
        .strict()
        .prefault({}),
      /** New connections per client IP and period, e.g. `60/min`; unset: no limit. */
      connectionRate: rate.optional(),
      greylist: z
        .object({
          enabled: z.boolean().default(false),
          /** Only for these local domains; empty: all of them. */
          domains: z.array(domainName).default([]),
          /** How long a new triplet must wait before a retry passes. */
          delay: duration.default(300_000),
          /** A triplet that was not retried within this time starts over. */
          retryWindow: duration.default(86_400_000),
          /** How long a triplet that passed stays passed. */
          passLifetime: duration.default(36 * 86_400_000),
          /** After this many passed triplets a client network skips greylisting (0: never). */
          autoAllowAfter: z.number().int().nonnegative().default(5),
        })
        .strict()
        .prefault({}),
      rateLimits: z
        .object({
          /** Messages per client IP (MTA traffic), e.g. `200/h`. */
          clientIp: rate.optional(),
          /** Messages per envelope sender domain. */
          senderDomain: rate.optional(),
          /** Messages per authenticated user (submission). */
          user: rate.optional(),
          /** Messages per recipient address. */
          recipient: rate.optional(),
        })
        .strict()
        .prefault({}),
    })
    .strict()
    .prefault({});
}

export const configSchema = z
  .object({
    hostname: hostname.default(() => defaultHostname()),
    dataDir: z.string().min(1).default('./data'),
    mode: z.enum(['normal', 'sandbox']).default('normal'),
    store: z
      .discriminatedUnion('driver', [
        z.object({ driver: z.literal('sqlite'), path: z.string().optional() }).strict(),
        z.object({ driver: z.literal('postgres'), url: z.string().url() }).strict(),
      ])
      .prefault({ driver: 'sqlite' }),
    listeners: z.array(listener).prefault(() => defaultListeners()),
    tls: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
      })
      .strict()
      .optional(),
    domains: z
      .array(
        z
          .object({
            name: domainName,
            transport: transport.default('mailbox'),
            /** Authenticated users may send only as addresses of this domain they own. */
            senderOwnership: z.boolean().default(true),
          })
          .strict(),
      )
      .prefault([{ name: 'localhost' }]),
    relay: z
      .object({
        networks: z.array(cidr).default(['127.0.0.0/8', '::1/128']),
        /** Domains we are a backup MX for: accepted from anyone, held and passed on to their primary MX. */
        domains: z.array(domainName).default([]),
      })
      .strict()
      .prefault({}),
    dns: z
      .object({
        servers: z.array(z.string()).default([]),
        timeout: duration.default(5000),
        /** The DNSSEC-validating resolver DANE trusts (its AD bit); empty: `dns.servers`. */
        dane: z
          .object({ servers: z.array(z.string()).default([]) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        messageSize: byteSize.default(26_214_400),
        recipients: z.number().int().positive().default(1000),
        /** Longest command line, octets including CRLF (RFC 5321 4.5.3.1.4 says 512). */
        commandLength: z.number().int().min(512).default(512),
        /** Longest text line in DATA, octets including CRLF; longer lines end the session. */
        lineLength: byteSize.default(65_536),
        messagesPerConnection: z.number().int().positive().default(100),
        connections: z.number().int().positive().default(1000),
        perIp: z.number().int().positive().default(20),
        commandTimeout: duration.default(300_000),
        dataTimeout: duration.default(600_000),
        errors: z.number().int().positive().default(20),
        receivedHeaders: z.number().int().positive().default(50),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        /** Answer EXPN with alias expansion instead of 502. */
        expn: z.boolean().default(false),
        /** What to do with a bare CR or LF in DATA: reject it (default) or normalize it to CRLF. */
        bareLineEndings: z.enum(['reject', 'normalize']).default('reject'),
        /** Banner text after the host name in the 220 greeting. */
        banner: z.string().default('ESMTP mailroom'),
        /** Wait before the greeting to catch early talkers (pregreet). 0 disables the check. */
        greetDelay: duration.default(0),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** SASL mechanisms offered after TLS (CRAM-MD5 works only for users who enabled it). */
        mechanisms: z
          .array(z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256']))
          .min(1)
          .default(['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256']),
        /** Allow AUTH without TLS from loopback clients (127.0.0.0/8, ::1), e.g. for local apps. */
        plaintextOnLoopback: z.boolean().default(false),
        failures: z
          .object({
            /** Failures are counted per IP and per user within this window; a lock-out lasts as long. */
            window: duration.default(900_000),
            /** From this many failures on, each answer is delayed by `delay` more (up to `maxDelay`). */
            delayAfter: z.number().int().min(1).default(3),
            delay: duration.default(1000),
            maxDelay: duration.default(8000),
            /** Failures from one IP after which it gets 454 until the window ends. */
            ipLockAfter: z.number().int().min(1).default(10),
            /** Failures for one user after which it gets 454 until the window ends (from any IP). */
            userLockAfter: z.number().int().min(1).default(50),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    submission: z
      .object({
        /** Refuse senders whose domain is not a local domain (550 5.7.1 Unconfigured sending domain). */
        requireLocalSender: z.boolean().default(true),
        /** Show the authenticated client's IP address in our Received: header (hidden by default). */
        showClientIp: z.boolean().default(false),
        /** Name the authenticated user in our Received: header (hidden by default). */
        showAuthenticatedUser: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        /** Port of remote mail servers; 25 everywhere but in tests. */
        port: z.number().int().min(1).max(65535).default(25),
        /** STARTTLS when the remote offers it (opportunistic), always (required), or never. */
        tls: z.enum(['opportunistic', 'required', 'none']).default('opportunistic'),
        connectTimeout: duration.default(30_000),
        /** Parallel deliveries per destination: start low, grow while the destination keeps up. */
        destinationConcurrency: z
          .object({
            initial: z.number().int().positive().default(5),
            max: z.number().int().positive().default(20),
          })
          .strict()
          .refine((c) => c.initial <= c.max, { message: 'initial must not exceed max' })
          .prefault({}),
        /** Per recipient domain: at most this many messages per period, e.g. `gmail.com: 100/min`. */
        rateLimits: z.record(domainName, rate).default({}),
        /** Keep a connection open after a delivery so the next message to that server can use it. */
        connectionCache: z
          .object({
            /** Close an idle cached connection after this long (0 turns caching off). */
            idle: duration.default(5000),
            /** Messages sent over one connection before it is closed and a new one opened. */
            maxMessages: z.number().int().positive().default(100),
          })
          .strict()
          .prefault({}),
        /** Send all remote mail through this server (a provider's submission service) instead of MX. */
        smarthost: z
          .object({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(587),
            /** Unset: `implicit` on port 465, `required` (STARTTLS) elsewhere. */
            tls: z.enum(['required', 'implicit', 'opportunistic', 'none']).optional(),
            auth: z
              .object({ user: z.string().min(1), password: z.string().min(1) })
              .strict()
              .optional(),
            /** PEM file of the CA that signed the smarthost's certificate, when it is not a public one. */
            ca: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        /** MTA-STS (RFC 8461): honour recipient domains' published policies. */
        mtaSts: z
          .object({
            enabled: z.boolean().default(true),
            /** PEM file of an extra CA to trust for policy hosts and MX hosts under a policy (tests). */
            ca: z.string().min(1).optional(),
            timeout: duration.default(10_000),
            /** HTTPS port of policy hosts; 443 everywhere but in tests. */
            port: z.number().int().min(1).max(65535).default(443),
          })
          .strict()
          .prefault({}),
        /** DANE (RFC 7672): authenticate MX hosts by DNSSEC-validated TLSA records. */
        dane: z.enum(['enabled', 'disabled']).default('enabled'),
      })
      .strict()
      .prefault({}),
    queue: z
      .object({
        retry: z.array(duration).min(1).default([300_000, 600_000, 1_200_000, 2_400_000, 3_600_000]),
        lifetime: duration.default(5 * 86_400_000),
        delayWarning: duration.default(4 * 3_600_000),
        /** How many deliveries run at once on this node. */
        concurrency: z.number().int().positive().default(100),
        /** How long a node owns a claimed recipient before another node may take it. */
        lease: duration.default(300_000),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    shutdown: z
      .object({ drainTimeout: duration.default(30_000) })
      .strict()
      .prefault({}),
    mailbox: z
      .object({
        /** Default per-user quota for all mailboxes together; absent means unlimited. */
        quota: byteSize.optional(),
      })
      .strict()
      .prefault({}),
    pop3: z
      .object({
        /** Allow USER/PASS and AUTH without TLS from loopback clients (127.0.0.0/8, ::1). */
        plaintextOnLoopback: z.boolean().default(false),
        /** Close a session idle this long (RFC 1939 asks for at least 10 minutes). */
        idleTimeout: duration.default(600_000),
        /** Longest command line, octets including CRLF (AUTH responses can be long). */
        lineLength: z.number().int().min(255).default(8192),
        /**
         * List CRAM-MD5 in CAPA. Off by default: clients such as curl pick it over PLAIN and then
         * fail for every user without CRAM-MD5 enabled. AUTH CRAM-MD5 works either way.
         */
        offerCramMd5: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Content scanners asked at the end of DATA, before the 250 (docs/scanning.md). */
    scanning: z
      .object({
        rspamd: z
          .object({
            url: z.url({
              protocol: /^https?$/,
              error: 'expected an http:// or https:// URL, e.g. http://127.0.0.1:11333/',
            }),
            timeout: duration.default(15_000),
            failure: scanFailure,
          })
          .strict()
          .optional(),
        clamd: z
          .object({
            address: socketAddress,
            timeout: duration.default(30_000),
            failure: scanFailure,
            /** Larger messages are not sent (clamd's StreamMaxLength would cut them off anyway). */
            maxSize: byteSize.default(25 * 1024 * 1024),
          })
          .strict()
          .optional(),
        milters: z
          .array(
            z
              .object({
                address: socketAddress,
                timeout: duration.default(30_000),
                failure: scanFailure,
              })
              .strict(),
          )
          .default([]),
        /** Upper bound for all scanners together; past it the failure policies apply. */
        timeout: duration.default(60_000),
      })
      .strict()
      .prefault({}),
    imap: z
      .object({
        /** Allow LOGIN and AUTHENTICATE without TLS from loopback clients (127.0.0.0/8, ::1). */
        plaintextOnLoopback: z.boolean().default(false),
        /** Close a connection (IDLE included) silent this long; RFC 9051 asks for at least 30 minutes. */
        idleTimeout: duration.default(1_800_000),
        /** Longest command (lines and small literals together), octets; APPEND literals follow limits.messageSize. */
        commandSize: byteSize.default(65_536),
      })
      .strict()
      .prefault({}),
    /** Checks on mail from other servers (the smtp listener, unauthenticated): see docs/security.md. */
    inbound: inboundSchema(),
    http: z
      .object({
        /** Largest request body; unset: room for a message of limits.messageSize as base64 JSON. */
        bodyLimit: byteSize.optional(),
        /** Requests per API key, unless the key has its own limit (`mailroom apikey create --rate`). */
        rateLimit: rate.default({ count: 600, per: 60_000 }),
        /** Most messages in one `POST /v1/messages/batch`. */
        batchSize: z.number().int().min(1).max(500).default(500),
        /** Webhook deliveries (docs/api.md "Webhooks"). */
        webhooks: z
          .object({
            /** How long one POST to an endpoint may take. */
            timeout: duration.default(10_000),
            /** Delays between attempts; the last one repeats until `maxAge`. */
            retry: z.array(duration).min(1).default([30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000]),
            /** A delivery whose retries would go past this is marked failed. */
            maxAge: duration.default(3 * 86_400_000),
            /** Disable an endpoint after this many deliveries in a row failed ... */
            disableAfterFailures: z.number().int().min(1).default(5),
            /** ... or after it has failed every attempt for this long. */
            disableAfter: duration.default(86_400_000),
            /** How often due deliveries are looked for. */
            poll: duration.default(1_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ListenerConfig = Config['listeners'][number];
export type Limits = Config['limits'];

function defaultHostname(): string {
  const h = os.hostname();
  return /^[A-Za-z0-9.-]+$/.test(h) && h.length > 0 ? h : 'localhost';
}

function defaultListeners(): z.input<typeof listener>[] {
  const address = '127.0.0.1';
  return [
    { protocol: 'smtp', address, port: 2525 },
    { protocol: 'submission', address, port: 2587 },
    { protocol: 'submissions', address, port: 2465 },
    { protocol: 'imap', address, port: 2143 },
    { protocol: 'imaps', address, port: 2993 },
    { protocol: 'pop3', address, port: 2110 },
    { protocol: 'pop3s', address, port: 2995 },
    { protocol: 'http', address, port: 8025 },
  ];
}
