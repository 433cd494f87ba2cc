export {
  DKIM_ALGORITHMS,
  defaultSelector,
  dkimRecord,
  generateDkimKey,
  isSelector,
  keyType,
  publicValueOf,
  txtStrings,
} from './keys.js';
export { headerField, signingDomain, splitMessage } from './message.js';
export type { SignOptions } from './sign.js';
export { OVERSIGNED_HEADERS, SIGNED_HEADERS, signMessage, signWithActiveKey } from './sign.js';
