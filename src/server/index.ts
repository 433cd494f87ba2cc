import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createMechanism } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { signWithActiveKey } from '../dkim/index.js';
import { resolverFromConfig, secureResolverFromConfig } from '../dns/index.js';
import { EventBus, logSink, TimelineSink } from '../events/index.js';
import { HttpListener, Metrics, WebhookService } from '../http/index.js';
import { ImapListener, StructureIndexer } from '../imap/index.js';
import { MailboxService } from '../mailbox/index.js';
import { CidrSet } from '../net/cidr.js';
import { ConnectionLimiter } from '../net/limits.js';
import { loadTls } from '../net/tls.js';
import {
  AuthThrottle,
  ContentScanner,
  InboundPolicy,
  RecipientPolicy,
  SenderPolicy,
  scannersFromConfig,
  suppressionSink,
} from '../policy/index.js';
import { MaildropLocks, Pop3Listener } from '../pop3/index.js';
import { DsnNotifier, QueueWorker } from '../queue/index.js';
import { type Route, Router } from '../router/index.js';
import { type ListenerRole, SmtpListener } from '../smtp/server/index.js';
import { Spool } from '../spool/index.js';
import type { DomainTransport, Store } from '../store/index.js';
import {
  ConnectionCache,
  DestinationLimits,
  DiscardTransport,
  MailboxTransport,
  MaildirTransport,
  RelayTransport,
  RemoteTransport,
  type Transport,
  UnavailableTransport,
} from '../transports/index.js';
import { openResources, type Resources } from './resources.js';

export interface RunningServer {
  listeners: { protocol: string; address: string; port: number }[];
  resources: Resources;
  events: EventBus;
  queue: QueueWorker;
  /** Inbound trust checks; content scanners add their end-of-DATA checks here. */
  inbound: InboundPolicy;
  /** Drain and stop: new connections get 421, transactions in flight finish, the queue settles. */
  stop(reason?: string): Promise<void>;
}

const SMTP_ROLES: readonly string[] = ['smtp', 'submission', 'submissions'];

/** Start everything the config asks for. */
export async function startServer(
  config: Config,
  opts: { logger: Logger /** The clock of greylisting and rate limits (tests). */; now?: () => number },
): Promise<RunningServer> {
  const logger = opts.logger;
  const resources = await openResources(config);
  const { store, blobs } = resources;
  try {
    await syncDomains(store, config);
    if (store.driver === 'sqlite') {
      // One process owns an SQLite store, so leases left behind are this node's from before a crash.
      const recovered = await store.recoverLeases(Date.now());
      if (recovered > 0) logger.warn({ recovered }, 'resuming deliveries interrupted by a crash');
    }
    const tls = await loadTls(config);
    if (tls.selfSigned) logger.info({ cert: tls.certFile }, 'using a self-signed TLS certificate');

    const events = new EventBus();
    const timeline = new TimelineSink(store, (err) => logger.error({ err }, 'timeline write failed'));
    events.subscribe(logSink(logger));
    events.subscribe(timeline.sink);
    const metrics = new Metrics(store);
    events.subscribe(metrics.sink);
    events.subscribe(suppressionSink(store, (err) => logger.error({ err }, 'suppression list update failed')));
    const webhooks = new WebhookService(
      store,
      events,
      config.http.webhooks,
      logger.child({ component: 'webhooks' }),
      opts.now,
      (result) => metrics.webhookAttempt(result),
    );
    events.subscribe(webhooks.sink);

    const router = new Router(store);
    const policy = new RecipientPolicy(
      router,
      new CidrSet(config.relay.networks),
      config.domains[0]?.name ?? config.hostname.toLowerCase(),
      new Set(config.relay.domains),
      async (address) => (await store.findSuppressions([address]))[0]?.reason ?? null,
    );
    const spool = new Spool(store, blobs);
    const senders = new SenderPolicy(store, {
      requireLocalSender: config.submission.requireLocalSender,
      openDomains: new Set(config.domains.filter((d) => !d.senderOwnership).map((d) => d.name)),
    });
    const authLogger = logger.child({ component: 'auth' });
    const auth = {
      mechanisms: config.auth.mechanisms,
      create: (name: string) =>
        createMechanism(name, {
          lookup: { user: (address: string) => store.getUser(address) },
          hostname: config.hostname,
        }),
      throttle: new AuthThrottle(store, config.auth.failures),
      plaintextOnLoopback: config.auth.plaintextOnLoopback,
      logger: authLogger,
    };
    // Failed-login counters of every IP that ever tried would otherwise pile up.
    const pruneTimer = setInterval(() => {
      auth.throttle.prune().catch((err) => authLogger.warn({ err }, 'pruning failed-login counters failed'));
    }, 3_600_000);
    pruneTimer.unref();
    const node = `${os.hostname()}:${process.pid}`;
    // One service per process: its notifier carries changes between deliveries and sessions.
    const mailboxes = new MailboxService({ store, blobs, defaultQuota: config.mailbox.quota ?? null });
    const transports = makeTransports(config, resources.dataDir, logger, mailboxes);
    const queue = new QueueWorker({
      node,
      store,
      blobs,
      router,
      events,
      logger: logger.child({ component: 'queue' }),
      queue: config.queue,
      transportFor: (route) => pickTransport(route, transports),
      notify: new DsnNotifier({ hostname: config.hostname, spool, blobs, logger: logger.child({ component: 'dsn' }) })
        .notify,
    });
    spool.onCommitted(() => queue.wake());

    const scanners = scannersFromConfig(config.scanning);
    const scan =
      scanners.length > 0
        ? new ContentScanner(scanners, config.scanning.timeout, logger.child({ component: 'scan' }))
        : null;
    const inbound = makeInboundPolicy(config, store, router, logger, opts.now);
    const pruneTrust = setInterval(() => {
      inbound.prune().catch((err) => logger.warn({ err }, 'pruning greylist and rate counters failed'));
    }, 3_600_000);
    pruneTrust.unref();
    const rate = config.inbound.connectionRate;
    const limiter = new ConnectionLimiter(
      config.limits.connections,
      config.limits.perIp,
      rate ? { ...rate, exempt: (ip) => inbound.isExempt(ip) } : null,
      opts.now,
    );
    const smtpListeners: SmtpListener[] = [];
    const bound: RunningServer['listeners'] = [];
    const pop3Listeners: Pop3Listener[] = [];
    const imapListeners: ImapListener[] = [];
    // BODYSTRUCTURE and ENVELOPE of delivered mail are computed as it arrives, not on the first FETCH.
    const indexer = config.listeners.some((l) => l.protocol === 'imap' || l.protocol === 'imaps')
      ? new StructureIndexer(mailboxes, store, logger.child({ component: 'imap' }))
      : null;
    const maildropLocks = new MaildropLocks();
    const httpListeners: HttpListener[] = [];
    /** Bind one listener; if its port is taken, close every listener bound so far and say what to do. */
    const bind = async <T extends { listen(): Promise<{ address: string; port: number }> }>(
      l: { protocol: (typeof bound)[number]['protocol']; address: string; port: number },
      listener: T,
      into: T[],
      logged: Record<string, unknown> = {},
    ): Promise<void> => {
      try {
        const addr = await listener.listen();
        into.push(listener);
        bound.push({ protocol: l.protocol, ...addr });
        logger.info({ protocol: l.protocol, address: addr.address, port: addr.port, ...logged }, 'listening');
      } catch (err) {
        await Promise.all(
          [...smtpListeners, ...pop3Listeners, ...imapListeners, ...httpListeners].map((x) => x.close()),
        );
        throw new Error(
          `cannot listen on ${l.address}:${l.port} for ${l.protocol}: ${(err as Error).message}; ` +
            'free the port or change listeners in the config',
        );
      }
    };
    const sign = (message: Buffer) => signWithActiveKey(message, store);
    for (const l of config.listeners) {
      if (l.protocol === 'http') {
        const httpLogger = logger.child({ component: 'http' });
        const listener = new HttpListener(
          { address: l.address, port: l.port, tls: l.tls ? tls : null },
          {
            config,
            store,
            blobs,
            events,
            metrics,
            logger: httpLogger,
            wakeQueue: () => queue.wake(),
            webhooks,
            intake: {
              hostname: config.hostname,
              limits: config.limits,
              spool,
              store,
              policy,
              events,
              sign,
              scan,
              logger: httpLogger,
            },
          },
        );
        await bind(l, listener, httpListeners, { tls: l.tls === true });
        continue;
      }
      if (l.protocol === 'pop3' || l.protocol === 'pop3s') {
        const pop3 = new Pop3Listener({
          role: l.protocol,
          address: l.address,
          port: l.port,
          hostname: config.hostname,
          tls,
          limiter,
          store,
          mailboxes,
          locks: maildropLocks,
          auth: { ...auth, plaintextOnLoopback: config.pop3.plaintextOnLoopback },
          pop3: config.pop3,
          logger: logger.child({ component: 'pop3' }),
        });
        await bind(l, pop3, pop3Listeners);
        continue;
      }
      if (l.protocol === 'imap' || l.protocol === 'imaps') {
        const imap = new ImapListener({
          role: l.protocol,
          address: l.address,
          port: l.port,
          tls,
          limiter,
          idleTimeout: config.imap.idleTimeout,
          commandSize: config.imap.commandSize,
          logger: logger.child({ component: 'imap' }),
          deps: {
            hostname: config.hostname,
            store,
            mailboxes,
            auth,
            messageSize: config.limits.messageSize,
            plaintextOnLoopback: config.imap.plaintextOnLoopback,
          },
        });
        await bind(l, imap, imapListeners);
        continue;
      }
      if (!SMTP_ROLES.includes(l.protocol)) {
        logger.info({ protocol: l.protocol, port: l.port }, `listener ${l.protocol} is not available in this version`);
        continue;
      }
      const listener = new SmtpListener({
        role: l.protocol as ListenerRole,
        address: l.address,
        port: l.port,
        tls,
        limiter,
        logger: logger.child({ component: 'smtp' }),
        deps: {
          hostname: config.hostname,
          limits: config.limits,
          smtp: config.smtp,
          policy,
          spool,
          events,
          logger: logger.child({ component: 'smtp' }),
          expand: async (address) => {
            const e = await router.expand(address);
            return e.ok ? e.addresses : null;
          },
          auth,
          senders,
          submission: config.submission,
          sign: (message: Buffer) => signWithActiveKey(message, store),
          scan,
          inbound,
        },
      });
      await bind(l, listener, smtpListeners);
    }
    queue.start();
    webhooks.start();

    let stopping: Promise<void> | null = null;
    const stop = (reason = 'shutdown') => {
      stopping ??= (async () => {
        logger.info({ reason }, 'draining');
        clearInterval(pruneTimer);
        clearInterval(pruneTrust);
        for (const s of [...smtpListeners, ...pop3Listeners, ...imapListeners]) s.drain();
        await Promise.all(
          [...smtpListeners, ...pop3Listeners, ...imapListeners].map((s) => s.waitIdle(config.shutdown.drainTimeout)),
        );
        await Promise.all([...smtpListeners, ...pop3Listeners, ...imapListeners].map((s) => s.close()));
        await Promise.all(httpListeners.map((h) => h.close()));
        await queue.stop();
        await webhooks.stop();
        await indexer?.close();
        await transports.cache.close();
        await timeline.flush();
        await store.close();
        logger.info('stopped');
      })();
      return stopping;
    };
    return { listeners: bound, resources, events, queue, inbound, stop };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/** Config domains are authoritative at start: added when missing, transport updated when changed. */
async function syncDomains(store: Store, config: Config): Promise<void> {
  for (const d of config.domains) {
    const existing = await store.getDomain(d.name);
    const transport = d.transport as DomainTransport;
    if (existing?.transport === transport) continue;
    if (existing) await store.removeDomain(d.name);
    await store.addDomain(d.name, transport);
  }
}

interface TransportSet {
  mailbox: Transport;
  maildir: Transport;
  discard: Transport;
  sandbox: Transport;
  remote: Transport;
  relay: Transport;
  /** Idle outbound sessions, closed at shutdown. */
  cache: ConnectionCache;
}

function makeTransports(config: Config, dataDir: string, logger: Logger, mailboxes: MailboxService): TransportSet {
  const cache = new ConnectionCache(config.delivery.connectionCache);
  const remote = {
    resolver: resolverFromConfig(config),
    secureResolver: secureResolverFromConfig(config),
    hostname: config.hostname,
    delivery: config.delivery,
    logger: logger.child({ component: 'remote' }),
    cache,
    limits: new DestinationLimits({
      ...config.delivery.destinationConcurrency,
      rates: config.delivery.rateLimits,
      // Waiting holds the recipients' lease; give up well before another node could take them.
      maxWait: Math.min(60_000, Math.floor(config.queue.lease / 4)),
    }),
  };
  return {
    mailbox: new MailboxTransport(mailboxes),
    maildir: new MaildirTransport(path.join(dataDir, 'maildir'), config.hostname),
    discard: new DiscardTransport(),
    sandbox: new UnavailableTransport(
      'sandbox',
      'Sandbox delivery is not available in this version; mail stays queued',
    ),
    remote: new RemoteTransport(remote),
    relay: new RelayTransport(remote),
    cache,
  };
}

function pickTransport(route: Route, t: TransportSet): Transport {
  if (route.kind === 'remote') return t.remote;
  const kind = route.domain.transport;
  if (kind === 'mailbox' || kind === 'maildir' || kind === 'discard' || kind === 'sandbox') return t[kind];
  return t.relay;
}

function makeInboundPolicy(
  config: Config,
  store: Store,
  router: Router,
  logger: Logger,
  now: (() => number) | undefined,
): InboundPolicy {
  return new InboundPolicy({
    hostname: config.hostname,
    config: config.inbound,
    trusted: config.relay.networks,
    store,
    resolver: resolverFromConfig(config).resolve,
    isLocal: async (domain) => (await router.localDomain(domain)) !== null,
    sealKey: async (domain) => {
      const key = await store.getActiveDkimKey(domain);
      if (!key) return null;
      const algorithm = key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256';
      return { domain: key.domain, selector: key.selector, privateKey: key.privateKey, algorithm };
    },
    logger: logger.child({ component: 'policy' }),
    now,
  });
}
