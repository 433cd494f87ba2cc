export { SmtpClient } from './client.js';
export { type ClientStage, formatShort, SmtpClientError, TlsHandshakeError } from './errors.js';
export { CHUNK_SIZE } from './send.js';
export type { ClientTlsInfo, Envelope, SendResult, SmtpClientOptions } from './types.js';
