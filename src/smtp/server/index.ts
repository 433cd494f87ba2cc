export type { SmtpListenerOptions } from './listener.js';
export { SmtpListener } from './listener.js';
export type { ConnectionInfo, ListenerRole, SessionDeps, Step } from './session.js';
export { SmtpSession } from './session.js';
