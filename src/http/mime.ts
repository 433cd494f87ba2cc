import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import PostalMime, { addressParser } from 'postal-mime';
import { ApiError } from './errors.js';
import type { AddressInput, SendInput } from './schemas.js';

/** A message ready for intake: the envelope and the RFC 5322 bytes. */
export interface BuiltMessage {
  mailFrom: string;
  recipients: string[];
  message: Buffer;
  subject: string | null;
}

function toAddress(a: AddressInput, field: string): Mail.Address {
  if (typeof a !== 'string') return { address: a.email, name: a.name ?? '' };
  const parsed = addressParser(a);
  const first = parsed[0];
  if (parsed.length !== 1 || !first || !('address' in first) || !first.address || !first.address.includes('@')) {
    throw new ApiError(400, 'invalid_request', `${field}: "${a}" is not an email address`, {
      in: 'body',
      issues: [{ path: field, message: 'is not an email address' }],
    });
  }
  return { address: first.address, name: first.name ?? '' };
}

function toList(v: AddressInput | AddressInput[] | undefined, field: string): Mail.Address[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((a, i) => toAddress(a, Array.isArray(v) ? `${field}[${i}]` : field));
}

/** Build the MIME message of a JSON send request with nodemailer's MailComposer. */
export async function buildMessage(input: SendInput, hostname: string): Promise<BuiltMessage> {
  const from = toAddress(input.from, 'from');
  const to = toList(input.to, 'to');
  const cc = toList(input.cc, 'cc');
  const bcc = toList(input.bcc, 'bcc');
  const composer = new MailComposer({
    from,
    to,
    cc,
    // Bcc recipients are in the envelope only; MailComposer leaves the Bcc: header out.
    bcc,
    replyTo: toList(input.reply_to, 'reply_to'),
    subject: input.subject,
    text: input.text,
    html: input.html,
    headers: input.headers,
    attachments: input.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      encoding: 'base64',
      ...(a.content_type ? { contentType: a.content_type } : {}),
      ...(a.cid ? { cid: a.cid, contentDisposition: 'inline' as const } : {}),
    })),
    messageId: undefined,
    date: new Date(),
  });
  const node = composer.compile();
  node.hostname = hostname;
  const message = await new Promise<Buffer>((resolve, reject) =>
    node.build((err, out) => (err ? reject(err) : resolve(out))),
  );
  return {
    mailFrom: String(from.address),
    recipients: [...to, ...cc, ...bcc].map((a) => String(a.address)),
    message,
    subject: input.subject || null,
  };
}

/** The envelope of a raw RFC 5322 message: From: is the sender, To/Cc/Bcc the recipients. */
export async function envelopeOf(raw: Buffer): Promise<BuiltMessage> {
  let parsed: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    parsed = await PostalMime.parse(raw);
  } catch (err) {
    throw new ApiError(422, 'invalid_message', `Cannot parse the message: ${(err as Error).message}`, null);
  }
  const from = parsed.from?.address;
  if (!from) throw new ApiError(422, 'invalid_message', 'The message has no From: address', null);
  const flat = (list: typeof parsed.to) =>
    (list ?? []).flatMap((a) => ('group' in a && Array.isArray(a.group) ? a.group : [a])).map((a) => a.address ?? '');
  const recipients = [...flat(parsed.to), ...flat(parsed.cc), ...flat(parsed.bcc)].filter((a) => a !== '');
  if (recipients.length === 0) {
    throw new ApiError(422, 'invalid_message', 'The message has no To:, Cc: or Bcc: recipients', null);
  }
  return { mailFrom: from, recipients, message: raw, subject: parsed.subject ?? null };
}
