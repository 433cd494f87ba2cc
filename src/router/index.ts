export type { Expansion, Route } from './router.js';
export { Router, splitAddress } from './router.js';
