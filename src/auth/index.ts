export { makeCredentials, parseScram } from './credentials.js';
export { hashPassword, verifyPassword } from './password.js';
export type { MechanismName, SaslDeps, SaslLookup, SaslMechanism, SaslStep } from './sasl/index.js';
export { createMechanism, MECHANISMS } from './sasl/index.js';
