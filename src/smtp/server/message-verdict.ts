import type { ContentScanner } from '../../policy/index.js';
import type { Intake } from '../../spool/index.js';
import { type Reply, reply } from '../reply.js';
import { type ScanFacts, type ScanOutcome, scanContent } from './content-scan.js';
import type { PolicyHooks } from './policy-hooks.js';
import type { Transaction } from './transaction.js';

/** What the end of DATA/BDAT needs to judge a complete message. */
export interface VerdictInput {
  tx: Transaction;
  intake: Intake;
  hooks: PolicyHooks;
  scan: ContentScanner | null | undefined;
  /** More `Received:` headers than this is a mail loop. */
  receivedLimit: number;
  facts: ScanFacts;
}

const refuse = (r: Reply): ScanOutcome => ({ kind: 'refuse', reply: r, reason: r.lines.join(' ') });

/**
 * Every check a complete message passes before it may be stored, in order: loop limit, body rules,
 * inbound trust checks (their Authentication-Results is what the scanners see), then content scanners.
 */
export async function judgeMessage(input: VerdictInput): Promise<ScanOutcome> {
  const { tx, intake } = input;
  if ((tx.body?.receivedCount ?? 0) > input.receivedLimit) {
    return refuse(reply(554, '5.4.6', 'Too many "Received" headers, mail loop detected'));
  }
  const refused = await tx.body?.end();
  if (refused) return refuse(refused);
  const checked = await input.hooks.data(intake, tx);
  if (checked.reply) return refuse(checked.reply);
  const scanned = await scanContent(input.scan, intake, input.facts);
  if (scanned.kind !== 'store') return scanned;
  const holdReason = checked.holdReason ?? scanned.holdReason;
  return { kind: 'store', recipients: scanned.recipients, ...(holdReason ? { holdReason } : {}) };
}
