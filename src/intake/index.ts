export type { IntakeDeps, RecipientOutcome, Submission, SubmitResult } from './submit.js';
export { submitMessage } from './submit.js';
