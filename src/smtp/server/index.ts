export { scanContent } from './content-scan.js';
export type { SmtpListenerOptions } from './listener.js';
export { SmtpListener } from './listener.js';
export { MessageBody, SIZE_EXCEEDED, type SubmissionContext } from './message-body.js';
export { receivedHeader } from './received.js';
export type { ConnectionInfo, ListenerRole, SessionDeps, Step } from './session.js';
export { SmtpSession } from './session.js';
