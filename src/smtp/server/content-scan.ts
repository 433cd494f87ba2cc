import type { Logger } from 'pino';
import type { EventBus } from '../../events/index.js';
import { applyEdits, type ContentScanner, type ScanVerdict } from '../../policy/index.js';
import type { Intake } from '../../spool/index.js';
import type { NewRecipient } from '../../store/index.js';
import { type Reply, reply } from '../reply.js';
import type { ConnectionInfo } from './session.js';

/** What the end of DATA does after the scanners have spoken. */
export type ScanOutcome =
  /** Answer with this reply; nothing is stored. */
  | { kind: 'refuse'; reply: Reply; reason: string }
  /** Answer 250 (in `reply`) but store nothing: a scanner asked to discard. */
  | { kind: 'discard'; reply: Reply; reason: string }
  /** Store for these recipients; held (quarantined) with `holdReason` when set. */
  | { kind: 'store'; recipients: NewRecipient[]; holdReason?: string };

/** The transaction and connection whose message is scanned. */
export interface ScanFacts {
  tx: { from: string; recipients: NewRecipient[] };
  conn: ConnectionInfo;
  helo: string | null;
  /** The authenticated user, if any. */
  user: string | null;
  hostname: string;
  events: EventBus;
  logger: Logger;
  /** Connection facts for events (as in the session's `received` and `rejected` events). */
  eventFacts: Record<string, unknown>;
}

const LOCAL_ERROR = reply(451, '4.3.0', 'Local error in processing, try again later');

/** Scan the held message and replace it with the scanners' edits applied (only when it will be stored). */
async function rewrite(
  scanner: ContentScanner,
  intake: Intake,
  facts: ScanFacts,
  done: (v: ScanVerdict) => void,
): Promise<void> {
  await intake.transform(async (message) => {
    const { conn, tx } = facts;
    const verdict = await scanner.scan({
      message,
      queueId: intake.id,
      mailFrom: tx.from,
      recipients: tx.recipients.map((r) => r.address),
      client: {
        ip: conn.remoteAddress,
        port: conn.remotePort,
        helo: facts.helo,
        tls: conn.tls ? `${conn.tls.version} ${conn.tls.cipher}` : null,
      },
      user: facts.user,
      hostname: facts.hostname,
    });
    done(verdict);
    if (verdict.action !== 'accept' && verdict.action !== 'quarantine') return message;
    return applyEdits(message, verdict.edits ?? [], verdict.headers, verdict.body);
  });
}

/**
 * Run the content scanners on a complete message before it is committed, and rewrite it with
 * their headers (X-Spam-*, milter changes). The intake must be held in memory (see Spool.begin).
 * Without scanners the message is stored as it is.
 */
export async function scanContent(
  scanner: ContentScanner | null | undefined,
  intake: Intake,
  facts: ScanFacts,
): Promise<ScanOutcome> {
  if (!scanner) return { kind: 'store', recipients: facts.tx.recipients };
  let verdict: ScanVerdict | null = null;
  try {
    await rewrite(scanner, intake, facts, (v) => {
      verdict = v;
    });
  } catch (err) {
    // The scanners never throw; this is a local fault (the message could not be rewritten). Keep the mail.
    facts.logger.error({ err, queueId: intake.id, ...facts.eventFacts }, 'content scan could not run');
    return { kind: 'refuse', reply: LOCAL_ERROR, reason: 'content scan could not run' };
  }
  const v = verdict as ScanVerdict | null;
  if (!v) return { kind: 'store', recipients: facts.tx.recipients };
  const reason = v.reason ?? v.action;
  if (v.action !== 'accept') {
    facts.logger.info({ queueId: intake.id, action: v.action, reason, ...facts.eventFacts }, 'content scan verdict');
  }
  if ((v.action === 'reject' || v.action === 'tempfail') && v.reply) return { kind: 'refuse', reply: v.reply, reason };
  if (v.action === 'discard') {
    facts.events.emit('discarded', intake.id, {
      ...facts.eventFacts,
      from: facts.tx.from,
      recipients: facts.tx.recipients.map((r) => r.address),
      size: intake.size,
      reason,
    });
    // The client is told the same as for a stored message: a discard is meant to be invisible.
    return { kind: 'discard', reply: reply(250, '2.0.0', `Ok: queued as ${intake.id}`), reason };
  }
  const drop = new Set((v.dropRecipients ?? []).map((a) => a.toLowerCase()));
  const recipients = facts.tx.recipients.filter((r) => !drop.has(r.address.toLowerCase()));
  return v.action === 'quarantine' ? { kind: 'store', recipients, holdReason: reason } : { kind: 'store', recipients };
}
