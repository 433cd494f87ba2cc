export { isLoopback, Pop3Auth, type Pop3AuthDeps, type Pop3Client } from './auth.js';
export { type Pop3Command, parseCommand } from './command.js';
export { dotStuff } from './dot-stuff.js';
export { Pop3Listener, type Pop3ListenerOptions } from './listener.js';
export { MaildropLocks } from './locks.js';
export { type Pop3Output, Pop3Session, type Pop3SessionDeps } from './session.js';
