import type { Route } from '../router/index.js';
import type { BlobStore, Message, Recipient, Store } from '../store/index.js';

/** Everything one delivery attempt needs. */
export interface DeliveryContext {
  message: Message;
  recipient: Recipient;
  route: Route;
  store: Store;
  blobs: BlobStore;
}

/** What happened: delivered, try again later, or give up (bounce). */
export interface DeliveryOutcome {
  status: 'delivered' | 'deferred' | 'bounced';
  /** SMTP-style reply text with enhanced code, kept as the recipient's last reply. */
  reply: string;
  /**
   * Doing this delivery again is harmless (a local append with a dedupe key, a Maildir file
   * with a fixed name): its outcome need not be fsync'd before the next one.
   */
  idempotent?: boolean;
  /** The server that gave the reply, `host [address]`, for DSNs and the timeline. */
  remoteMta?: string;
  /**
   * The next hop took the DSN request along (it offers the DSN extension), so a success notice
   * is its job now (RFC 3461 section 4.2); without it we send a `relayed` notice ourselves.
   */
  dsnPassedOn?: boolean;
  /** For a deferral: try again at this time (epoch ms) instead of the back-off schedule's next step. */
  retryAt?: number;
  /** The TLS session the reply came over, when there was one. */
  tls?: DeliveryTls;
}

/** TLS facts of a remote delivery, for the delivery event. */
export interface DeliveryTls {
  version: string;
  cipher: string;
  /** The certificate verified against the trusted CAs for the host name. */
  authorized: boolean;
  /** DANE (RFC 7672): `verified` when TLSA records authenticated the peer, `unauthenticated` when they only required TLS. */
  dane?: 'verified' | 'unauthenticated';
}

/** Several recipients of one message that share a route (same destination domain). */
export interface BatchContext extends Omit<DeliveryContext, 'recipient'> {
  recipients: Recipient[];
}

/** A way of delivering mail; every transport has this shape. */
export interface Transport {
  readonly name: string;
  deliver(ctx: DeliveryContext): Promise<DeliveryOutcome>;
  /** Deliver a batch in as few transactions as possible; one outcome per recipient, in order. */
  deliverMany?(ctx: BatchContext): Promise<DeliveryOutcome[]>;
}
