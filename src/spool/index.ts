export type { Envelope } from './spool.js';
export { Intake, Spool } from './spool.js';
