import type { Reply } from '../reply.js';
import { mailCommand, needsSmtputf8, positive, rcptCommand, safeAddress, sizeLimit, synthetic } from './commands.js';
import type { Connection } from './connection.js';
import { bdatPayload, dataPayload } from './encode.js';
import type { ClientStage } from './errors.js';
import type { Envelope, SendResult, Timeouts } from './types.js';

/** BDAT chunk size: big enough to be cheap, small enough that a refusal stops a large body early. */
export const CHUNK_SIZE = 1024 * 1024;

/** What a transaction left behind: the result, and whether the session is ready for another one. */
export interface Transaction {
  result: SendResult;
  clean: boolean;
}

/** Run one mail transaction (RFC 5321 3.3) over an established session. */
export async function transact(
  conn: Connection,
  ext: Map<string, string>,
  t: Timeouts,
  env: Envelope,
  message: Buffer,
): Promise<Transaction> {
  if (env.recipients.length === 0) throw new RangeError('an envelope needs at least one recipient');
  const warnings: string[] = [];
  const refuse = (r: Reply): Transaction => ({
    result: {
      mail: r,
      recipients: env.recipients.map((x) => ({ address: x.address, reply: r })),
      data: null,
      warnings,
    },
    clean: true,
  });
  // Checked before anything is sent: the remote cannot take this message, so retrying elsewhere later won't help.
  if (!safeAddress(env.from)) return refuse(synthetic(501, '5.1.7', 'Sender address cannot be sent over SMTP'));
  if (needsSmtputf8(env) && !ext.has('SMTPUTF8')) {
    return refuse(synthetic(553, '5.6.7', 'Remote server does not support SMTPUTF8'));
  }
  if (env.bodyType === 'BINARYMIME' && !(ext.has('CHUNKING') && ext.has('BINARYMIME'))) {
    return refuse(synthetic(554, '5.6.3', 'Remote server does not support binary MIME (CHUNKING, BINARYMIME)'));
  }
  const limit = sizeLimit(ext);
  if (limit !== null && env.size > limit) {
    return refuse(synthetic(552, '5.3.4', `Message too big for remote server (limit ${limit})`));
  }
  if (env.bodyType === '8BITMIME' && !ext.has('8BITMIME')) {
    warnings.push('8-bit message sent as is to a server that does not offer 8BITMIME');
  }
  const badRcpt = synthetic(501, '5.1.3', 'Recipient address cannot be sent over SMTP');
  const sendable = env.recipients.filter((r) => safeAddress(r.address));
  if (sendable.length === 0) return refuse(badRcpt);

  // After a 421 the server hangs up; every reply still owed is taken to be that 421.
  const st: { closing: Reply | null } = { closing: null };
  const read = async (stage: ClientStage, timeout: number, what: string): Promise<Reply> => {
    if (st.closing && !conn.alive) return st.closing;
    try {
      const r = await conn.read(stage, timeout, what);
      if (r.code === 421) st.closing = r;
      return r;
    } catch (err) {
      if (st.closing) return st.closing;
      throw err;
    }
  };

  const pipelining = ext.has('PIPELINING');
  const chunking = ext.has('CHUNKING');
  const rcpts = sendable.map((r) => rcptCommand(r, ext));
  const replies: Reply[] = [];
  let mail: Reply;
  let dataInit: Reply | null = null;
  if (pipelining) {
    // RFC 2920 3.1: DATA may end the group; BDAT waits, so a fully refused envelope costs no body bytes.
    const withData = !chunking;
    conn.write(
      mailCommand(env, ext) + rcpts.join('') + (withData ? 'DATA\r\n' : ''),
      rcpts.length + (withData ? 2 : 1),
    );
    mail = await read('mail', t.command, 'reply to MAIL');
    for (let i = 0; i < rcpts.length; i++) replies.push(await read('mail', t.command, 'reply to RCPT'));
    if (withData) dataInit = await read('data', t.dataInit, 'reply to DATA');
  } else {
    conn.write(mailCommand(env, ext), 1);
    mail = await read('mail', t.command, 'reply to MAIL');
    for (const cmd of rcpts) {
      if (!positive(mail) || st.closing) break;
      conn.write(cmd, 1);
      replies.push(await read('mail', t.command, 'reply to RCPT'));
    }
  }
  const accepted = positive(mail) ? replies.filter(positive).length : 0;
  let open = positive(mail);
  let data: Reply | null = null;

  if (!chunking) {
    if (!pipelining && accepted > 0 && !st.closing) {
      conn.write('DATA\r\n', 1);
      dataInit = await read('data', t.dataInit, 'reply to DATA');
    }
    if (dataInit?.code === 354) {
      if (accepted > 0) {
        await conn.writeBody(dataPayload(message), 1, t.dataBlock);
      } else {
        // A broken server invited data for no recipients; end it with an empty message (it cannot deliver it).
        conn.write('.\r\n', 1);
      }
      const end = await read('data', t.dataDone, 'reply to end of data');
      if (accepted > 0) data = end;
      open = false;
    } else if (accepted > 0) {
      data = dataInit;
    }
  } else if (accepted > 0 && !st.closing) {
    const bdat = await sendBdat(conn, t, message, env.bodyType === 'BINARYMIME', pipelining, read);
    data = bdat.reply;
    open = !bdat.complete;
  }

  // Recipients were accepted but the server hung up before the data: they must be retried, not forgotten.
  if (accepted > 0 && data === null && st.closing) data = st.closing;
  let clean = !st.closing;
  if (open && !st.closing) {
    // A refused DATA or chunk leaves the transaction open; RSET so the connection can carry the next one.
    conn.write('RSET\r\n', 1);
    clean = positive(await read('mail', t.command, 'reply to RSET'));
  }
  let next = 0;
  const recipients = env.recipients.map((r) => {
    if (!safeAddress(r.address)) return { address: r.address, reply: badRcpt };
    const reply = positive(mail) ? (replies[next++] ?? st.closing ?? mail) : mail;
    return { address: r.address, reply };
  });
  return { result: { mail, recipients, data, warnings }, clean: clean && !st.closing && conn.alive };
}

/** Send the body with BDAT (RFC 3030); `complete` is false when a chunk before LAST failed. */
async function sendBdat(
  conn: Connection,
  t: Timeouts,
  message: Buffer,
  binary: boolean,
  pipelining: boolean,
  read: (stage: ClientStage, timeout: number, what: string) => Promise<Reply>,
): Promise<{ reply: Reply; complete: boolean }> {
  const body = bdatPayload(message, binary);
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += CHUNK_SIZE) chunks.push(body.subarray(i, i + CHUNK_SIZE));
  if (chunks.length === 0) chunks.push(Buffer.alloc(0));
  const frame = (i: number): Buffer[] => {
    const chunk = chunks[i] as Buffer;
    return [Buffer.from(`BDAT ${chunk.length}${i === chunks.length - 1 ? ' LAST' : ''}\r\n`), chunk];
  };
  const timeout = (i: number) => (i === chunks.length - 1 ? t.dataDone : t.dataBlock);
  if (!pipelining) {
    let r: Reply | null = null;
    for (let i = 0; i < chunks.length; i++) {
      await conn.writeBody(frame(i), 1, t.dataBlock);
      r = await read('data', timeout(i), 'reply to BDAT');
      // RFC 3030 2: after a refused chunk the client must not send more.
      if (!positive(r)) return { reply: r, complete: i === chunks.length - 1 };
    }
    return { reply: r as Reply, complete: true };
  }
  for (let i = 0; i < chunks.length; i++) await conn.writeBody(frame(i), 1, t.dataBlock);
  let failed: Reply | null = null;
  let last: Reply | null = null;
  for (let i = 0; i < chunks.length; i++) {
    last = await read('data', timeout(i), 'reply to BDAT');
    if (!positive(last) && !failed && i < chunks.length - 1) failed = last;
  }
  return { reply: failed ?? (last as Reply), complete: failed === null };
}
