import type { DetailedPeerCertificate } from 'node:tls';
import type { Reply } from '../reply.js';

/** How to reach one server and what to ask of it. */
export interface SmtpClientOptions {
  /** IP address to connect to. */
  host: string;
  port: number;
  /** MX host name, for TLS SNI and the certificate name check. */
  servername?: string;
  /** Source address (IP pools). */
  localAddress?: string;
  heloName: string;
  /**
   * opportunistic: STARTTLS when offered, never fail on verification; required: fail (temporary) without
   * verified STARTTLS; implicit: TLS from the first byte (port 465), verified like required.
   */
  tls: 'opportunistic' | 'required' | 'implicit' | 'none';
  tlsOptions?: {
    ca?: string | Buffer;
    rejectUnauthorized?: boolean;
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
    /**
     * Checks the peer's certificate chain in place of the CA and name checks (DANE): null accepts, a string
     * says why not. With required or implicit TLS a refusal ends the session; with opportunistic TLS it is recorded.
     */
    verify?: (peer: DetailedPeerCertificate) => string | null;
  };
  /** AUTH PLAIN (LOGIN when PLAIN is not offered); sent only over TLS. */
  auth?: { user: string; pass: string };
  /** Milliseconds; see resolveTimeouts for defaults and derived values. */
  timeouts?: { connect?: number; greeting?: number; command?: number; data?: number };
}

/** The negotiated TLS session. */
export interface ClientTlsInfo {
  version: string;
  cipher: string;
  authorized: boolean;
  authorizationError: string | null;
  /** Only with `tlsOptions.verify`: whether the hook accepted the peer. */
  verified?: boolean;
}

/** One transaction's envelope, as stored with the message. */
export interface Envelope {
  /** '' for the null reverse-path. */
  from: string;
  recipients: {
    address: string;
    notify?: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[] | null;
    /** Decoded, `addr-type;address`. */
    orcpt?: string | null;
  }[];
  /** Octets of the message as stored (CRLF, not dot-stuffed): what SIZE= declares. */
  size: number;
  bodyType: '7BIT' | '8BITMIME' | 'BINARYMIME';
  smtputf8: boolean;
  dsn?: { ret: 'FULL' | 'HDRS' | null; envid: string | null };
}

/** What the server said, per step; a per-recipient outcome is its RCPT reply, then `data` if that was 2xx. */
export interface SendResult {
  /** Reply to MAIL FROM, or a synthetic one when the transaction was refused before sending anything. */
  mail: Reply;
  /** Per recipient, in order; a recipient not tried because MAIL failed gets MAIL's reply. */
  recipients: { address: string; reply: Reply }[];
  /** Final reply to DATA / BDAT LAST (or the failing DATA or BDAT reply); null when no recipient was accepted. */
  data: Reply | null;
  /** Things done that a log should mention, e.g. 8-bit data sent to a server without 8BITMIME. */
  warnings: string[];
}

/** Every timeout the client uses, in milliseconds. */
export interface Timeouts {
  connect: number;
  greeting: number;
  command: number;
  dataInit: number;
  dataBlock: number;
  dataDone: number;
  quit: number;
}

/**
 * RFC 5321 4.5.3.2 minimums: 5 min greeting, MAIL and RCPT; 2 min DATA initiation; 3 min per data block; 10 min
 * for the final dot. DATA initiation and data blocks keep those proportions to `command` and `data`, so a caller
 * who shortens one shortens the related ones too.
 */
export function resolveTimeouts(t: SmtpClientOptions['timeouts'] = {}): Timeouts {
  const command = t.command ?? 300_000;
  const data = t.data ?? 600_000;
  return {
    connect: t.connect ?? 30_000,
    greeting: t.greeting ?? 300_000,
    command,
    dataInit: Math.ceil((command * 2) / 5),
    dataBlock: Math.ceil((data * 3) / 10),
    dataDone: data,
    // Nothing depends on the answer to QUIT, so it is not worth minutes.
    quit: Math.min(command, 10_000),
  };
}
