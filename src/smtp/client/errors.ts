import type { Reply } from '../reply.js';

/** Where in the session a client error happened. */
export type ClientStage = 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'data' | 'timeout';

/** A session-level failure: the connection is unusable afterwards; `temporary` says whether to retry later. */
export class SmtpClientError extends Error {
  readonly temporary: boolean;
  readonly reply: Reply | null;
  readonly stage: ClientStage;

  constructor(stage: ClientStage, message: string, reply: Reply | null = null, temporary?: boolean) {
    super(reply ? `${message}: ${formatShort(reply)}` : message);
    this.name = 'SmtpClientError';
    this.stage = stage;
    this.reply = reply;
    // Without a reply it was the network or a timeout, which may well work next time.
    this.temporary = temporary ?? (reply ? reply.code < 500 : true);
  }
}

/** A failed TLS handshake, kept apart so opportunistic TLS can retry in plaintext. */
export class TlsHandshakeError extends SmtpClientError {}

/** One-line rendering of a reply for messages and logs. */
export function formatShort(r: Reply): string {
  return [String(r.code), r.enhanced, r.lines.join(' / ')].filter((p) => p !== null && p !== '').join(' ');
}
