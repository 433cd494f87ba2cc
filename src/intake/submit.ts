import type { Logger } from 'pino';
import type { Limits } from '../config/index.js';
import type { EventBus } from '../events/index.js';
import type { ContentScanner, RecipientPolicy, SenderVerdict } from '../policy/index.js';
import { parsePath } from '../smtp/address.js';
import type { Reply } from '../smtp/reply.js';
import { MessageBody, receivedHeader, SIZE_EXCEEDED, scanContent } from '../smtp/server/index.js';
import type { Spool } from '../spool/index.js';
import type { NewRecipient, Store } from '../store/index.js';

/** What a submission outside SMTP needs: the same spool, policy, signer and event bus as SMTP. */
export interface IntakeDeps {
  hostname: string;
  limits: Limits;
  spool: Spool;
  store: Store;
  policy: RecipientPolicy;
  events: EventBus;
  sign: ((message: Buffer) => Promise<string>) | null;
  /** The same content scanners as SMTP (rspamd, clamd, milters); null when none is configured. */
  scan: ContentScanner | null;
  logger: Logger;
}

/** One message handed in whole (HTTP API), with its envelope. */
export interface Submission {
  /** The authenticated identity, e.g. `apikey:ci`; relay decisions treat it like an SMTP AUTH user. */
  user: string;
  senders: { check(user: string, sender: string): Promise<SenderVerdict> };
  client: { ip: string; listener: string; tls: { version: string; cipher: string } | null; protocol: string };
  mailFrom: string;
  recipients: string[];
  /** The RFC 5322 message (any line endings; stored with CRLF). */
  message: Buffer;
  notBefore?: number;
  /** Runs once the queue id is known, before the commit (e.g. to store API metadata). */
  beforeCommit?: (id: string) => Promise<void>;
}

export interface RecipientOutcome {
  address: string;
  accepted: boolean;
  /** Recipient ids in the queue (an alias may expand to several). */
  ids: number[];
  /** Why it was refused: the SMTP reply and a short reason. */
  reply?: Reply;
  reason?: string;
}

export type SubmitResult =
  | { ok: true; id: string; recipients: RecipientOutcome[] }
  | { ok: false; stage: 'sender' | 'size' | 'recipients' | 'message'; reply: Reply; recipients: RecipientOutcome[] };

/**
 * Accept a whole message the way an SMTP submission is accepted: sender rules, per-recipient
 * suppression and relay policy, our Received: header, the RFC 6409 header fix-ups and From:
 * check, DKIM signing (MessageBody), then the durable spool commit and the `received` event.
 * Resolves only after the commit; throws when the store fails (nothing is kept then).
 */
export async function submitMessage(deps: IntakeDeps, sub: Submission): Promise<SubmitResult> {
  const envelopeFrom = await sub.senders.check(sub.user, sub.mailFrom);
  if (!envelopeFrom.ok) return { ok: false, stage: 'sender', reply: envelopeFrom.reply, recipients: [] };
  const message = toCrlf(sub.message);
  if (message.length > deps.limits.messageSize)
    return { ok: false, stage: 'size', reply: SIZE_EXCEEDED, recipients: [] };

  const outcomes = await decideRecipients(deps, sub);
  const accepted = outcomes.filter((o) => o.accepted);
  if (accepted.length === 0) {
    const first = outcomes.find((o) => o.reply)?.reply ?? {
      code: 554,
      enhanced: '5.5.1',
      lines: ['No valid recipients'],
    };
    return { ok: false, stage: 'recipients', reply: first, recipients: outcomes };
  }
  const finals = new Map<string, NewRecipient>();
  const finalOf = new Map<string, string[]>();
  for (const o of accepted) {
    const list: string[] = [];
    for (const address of (o as RecipientOutcome & { finals: string[] }).finals) {
      const key = address.toLowerCase();
      list.push(key);
      if (finals.has(key)) continue;
      const expanded = key !== o.address.toLowerCase();
      finals.set(key, { address, orcpt: expanded ? `rfc822;${o.address}` : null, notify: null });
    }
    finalOf.set(o.address, list);
  }

  const intake = deps.spool.begin({ holdInMemory: true });
  try {
    const header = receivedHeader({
      helo: 'api',
      clientIp: null,
      clientHost: null,
      hostname: deps.hostname,
      protocol: sub.client.protocol,
      queueId: intake.id,
      tls: sub.client.tls,
      recipient: finals.size === 1 ? ([...finals.values()][0]?.address ?? null) : null,
      date: new Date(),
    });
    const body = await MessageBody.open(intake, header, {
      user: sub.user,
      senders: sub.senders,
      hostname: deps.hostname,
      sign: deps.sign,
      logger: deps.logger,
      conn: 'http',
    });
    await body.write(message);
    const refused =
      body.receivedCount > deps.limits.receivedHeaders
        ? { code: 554, enhanced: '5.4.6', lines: ['Too many "Received" headers, mail loop detected'] }
        : await body.end();
    if (refused) {
      await intake.abort();
      return { ok: false, stage: 'message', reply: refused, recipients: outcomes };
    }
    const client = { client: sub.client.ip, listener: sub.client.listener, user: sub.user, tls: tlsText(sub.client) };
    const scanned = await scanContent(deps.scan, intake, {
      tx: { from: sub.mailFrom, recipients: [...finals.values()] },
      conn: {
        id: 'http',
        remoteAddress: sub.client.ip,
        remotePort: 0,
        localAddress: '',
        localPort: 0,
        tls: sub.client.tls,
      },
      helo: 'api',
      user: sub.user,
      hostname: deps.hostname,
      events: deps.events,
      logger: deps.logger,
      eventFacts: client,
    });
    if (scanned.kind === 'refuse') {
      await intake.abort();
      return { ok: false, stage: 'message', reply: scanned.reply, recipients: outcomes };
    }
    if (scanned.kind === 'discard') {
      // As over SMTP, a discard looks like an acceptance to the sender.
      await intake.abort();
      return { ok: true, id: intake.id, recipients: outcomes.map(({ finals: _f, ...o }) => o) };
    }
    await sub.beforeCommit?.(intake.id);
    await intake.commit({
      mailFrom: sub.mailFrom,
      bodyType: '8BITMIME',
      smtputf8: [sub.mailFrom, ...finals.keys()].some((a) => /[^\x00-\x7f]/.test(a)),
      dsnRet: null,
      dsnEnvid: null,
      client,
      recipients: scanned.recipients,
      ...(scanned.holdReason ? { holdReason: scanned.holdReason } : {}),
      ...(sub.notBefore !== undefined ? { notBefore: sub.notBefore } : {}),
    });
    deps.events.emit('received', intake.id, {
      ...client,
      from: sub.mailFrom,
      recipients: [...finals.values()].map((r) => r.address),
      size: intake.size,
      result: 'queued',
      ...(scanned.holdReason ? { result: 'held', held: scanned.holdReason } : {}),
    });
  } catch (err) {
    await intake.abort();
    throw err;
  }
  const ids = new Map((await deps.store.getRecipients(intake.id)).map((r) => [r.address.toLowerCase(), r.id]));
  for (const o of accepted) o.ids = (finalOf.get(o.address) ?? []).map((k) => ids.get(k) ?? 0).filter((n) => n > 0);
  return {
    ok: true,
    id: intake.id,
    recipients: outcomes.map(({ finals: _f, ...o }: RecipientOutcome & { finals?: string[] }) => o),
  };
}

async function decideRecipients(
  deps: IntakeDeps,
  sub: Submission,
): Promise<(RecipientOutcome & { finals?: string[] })[]> {
  const out: (RecipientOutcome & { finals?: string[] })[] = [];
  const seen = new Set<string>();
  const given = sub.recipients.filter((a) => {
    const k = a.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  for (const address of given) {
    const refuse = (reply: Reply, reason: string) => out.push({ address, accepted: false, ids: [], reply, reason });
    if (out.filter((o) => o.accepted).length >= deps.limits.recipients) {
      refuse({ code: 452, enhanced: '4.5.3', lines: ['Too many recipients'] }, 'too many recipients');
      continue;
    }
    const parsed = parsePath(`<${address}>`, { allowNull: false, smtputf8: true });
    if (!parsed.ok || !parsed.mailbox) {
      refuse({ code: 501, enhanced: '5.1.3', lines: ['Bad recipient address syntax'] }, 'invalid address');
      continue;
    }
    const verdict = await deps.policy.check({ ip: sub.client.ip, user: sub.user }, parsed.mailbox);
    if (!verdict.ok) {
      refuse(verdict.reply, verdict.reason);
      continue;
    }
    out.push({ address, accepted: true, ids: [], finals: verdict.addresses });
  }
  return out;
}

function tlsText(c: Submission['client']): string | null {
  return c.tls ? `${c.tls.version} ${c.tls.cipher}` : null;
}

/** Bare LF or CR become CRLF: JSON clients and files written on Unix rarely use CRLF. */
function toCrlf(message: Buffer): Buffer {
  const text = message.toString('latin1');
  if (!/\r(?!\n)|(?<!\r)\n/.test(text)) return message;
  return Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}
