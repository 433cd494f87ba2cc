import type { DsnNotify, Message, NewMessage, Recipient, RecipientState } from '../types.js';

/** Recipient states after which nothing more happens to a recipient. */
export const FINAL_STATES = ['delivered', 'bounced', 'expired'] as const satisfies readonly RecipientState[];

/** SQL list of the final states, for building statements (constants, never user input). */
export const FINAL_SQL = FINAL_STATES.map((s) => `'${s}'`).join(', ');

export interface RecipientRow {
  id: number;
  message_id: string;
  address: string;
  orcpt: string | null;
  notify: string | null;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_reply: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  updated_at: number;
  delay_notified_at: number | null;
}

export interface MessageRow {
  id: string;
  mail_from: string;
  body_type: string;
  smtputf8: number;
  dsn_ret: string | null;
  dsn_envid: string | null;
  size: number;
  blob_ref: string;
  received_at: number;
  client: string;
}

/** Map a recipients row to the contract type. */
export function toRecipient(r: RecipientRow): Recipient {
  return {
    id: r.id,
    messageId: r.message_id,
    address: r.address,
    orcpt: r.orcpt,
    notify: r.notify === null ? null : (JSON.parse(r.notify) as DsnNotify[]),
    state: r.state as RecipientState,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastReply: r.last_reply,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until,
    updatedAt: r.updated_at,
    delayNotifiedAt: r.delay_notified_at,
  };
}

/** Map a messages row to the contract type. */
export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    mailFrom: r.mail_from,
    bodyType: r.body_type as NewMessage['bodyType'],
    smtputf8: r.smtputf8 !== 0,
    dsnRet: r.dsn_ret as NewMessage['dsnRet'],
    dsnEnvid: r.dsn_envid,
    size: r.size,
    blobRef: r.blob_ref,
    receivedAt: r.received_at,
    client: JSON.parse(r.client) as Record<string, unknown>,
  };
}
