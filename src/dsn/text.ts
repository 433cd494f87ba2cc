import { oneLine, rfc5322Date } from './encode.js';
import type { DsnInput, DsnKind, DsnRecipient } from './types.js';

/** What the third part holds, so the text can say so. */
export type Returned = 'full' | 'headers' | 'too-big' | 'long-lines';

const WIDTH = 76;

// RFC 3463 subject.detail, worded for the person who sent the message rather than for an administrator.
const DETAIL: Record<string, string> = {
  '1.1': 'the mailbox does not exist',
  '1.2': 'the destination domain does not exist',
  '1.3': 'the address is not valid',
  '1.6': 'the mailbox has moved',
  '1.10': 'the destination domain does not accept mail',
  '2.1': 'the mailbox is disabled',
  '2.2': 'the mailbox is full',
  '2.3': 'the message is larger than the recipient accepts',
  '3.4': 'the message is larger than the receiving system accepts',
  '4.1': 'the receiving server did not answer',
  '4.2': 'the connection to the receiving server broke off',
  '4.4': 'no mail server could be found for the destination',
  '4.6': 'the message was routed in a loop',
  '4.7': 'the message stayed in the queue too long',
  '6.7': "the recipient's server does not accept internationalized (UTF-8) addresses",
  '7.1': 'the receiving system refused the message',
};

const SUBJECT: Record<string, string> = {
  '1': 'an address problem',
  '2': 'a mailbox problem',
  '3': 'a mail system problem',
  '4': 'a network or routing problem',
  '5': 'a mail protocol problem',
  '6': 'a message content problem',
  '7': 'a security or policy problem',
};

/** The human-readable first part: what happened to each recipient, what the remote said, what to do next. */
export function humanText(input: DsnInput, kind: DsnKind, returned: Returned): string {
  const out: string[] = [`This is the mail delivery system at ${oneLine(input.reportingMta)}.`, ''];
  out.push(...wrap(INTRO[kind], ''), '');
  for (const r of input.recipients) out.push(...recipientText(r, kind), '');
  out.push('Message details:');
  out.push(...wrap(`Queue ID: ${oneLine(input.queueId)}`, '    '));
  out.push(...wrap(`Received: ${rfc5322Date(input.arrivalDate)}`, '    '));
  if (input.envid !== null) out.push(...wrap(`Envelope ID: ${oneLine(input.envid)}`, '    '));
  out.push('', ...wrap(returnedText(returned, input.maxFullSize), ''));
  return `${out.join('\r\n')}\r\n`;
}

const INTRO: Record<DsnKind, string> = {
  failure:
    'Your message could not be delivered to the recipients below. The mail system has given up on them; ' +
    'no further attempts will be made.',
  delay:
    'Your message has not yet been delivered to the recipients below. This is only a warning: the mail ' +
    'system is still trying and you do not need to send the message again.',
  success: 'Your message reached the recipients below.',
};

function recipientText(r: DsnRecipient, kind: DsnKind): string[] {
  const lines = wrap(`<${oneLine(r.finalRecipient)}>: ${explain(r)} (${oneLine(r.status)})`, '');
  if (r.remoteMta !== null) lines.push(...wrap(`Remote server: ${oneLine(r.remoteMta)}`, '    '));
  if (r.diagnosticCode !== null) {
    const diag = oneLine(r.diagnosticCode);
    lines.push(...wrap(`${/^[2-5]\d\d\b/.test(diag) ? 'The server replied' : 'Reason'}: ${diag}`, '    '));
  }
  if (r.lastAttemptDate !== null) lines.push(...wrap(`Last attempt: ${rfc5322Date(r.lastAttemptDate)}`, '    '));
  lines.push(...wrap(`What you can do: ${advice(r, kind)}`, '    '));
  return lines;
}

function explain(r: DsnRecipient): string {
  if (r.action === 'delivered') return 'delivered';
  if (r.action === 'relayed') return 'passed on to a system that does not send delivery reports';
  if (r.action === 'expanded') return 'delivered to a list or alias, which passed it on to its members';
  const [, subject = '', detail = ''] = r.status.split('.');
  const what = DETAIL[`${subject}.${detail}`] ?? SUBJECT[subject] ?? 'an unknown problem';
  return r.action === 'delayed' ? `delayed: ${what}` : what;
}

function advice(r: DsnRecipient, kind: DsnKind): string {
  if (kind === 'success') {
    return r.action === 'relayed'
      ? 'nothing. The next system does not report on delivery, so this is the last report for this recipient.'
      : 'nothing; this report is the confirmation you asked for.';
  }
  if (kind === 'delay') {
    const until = r.willRetryUntil === null ? '' : ` until ${rfc5322Date(r.willRetryUntil)}`;
    return `nothing yet. Delivery will be retried${until}; you will get another report if it fails for good.`;
  }
  const [, subject = '', detail = ''] = r.status.split('.');
  const sd = `${subject}.${detail}`;
  if (sd === '2.2') return 'wait until the recipient has made room, then send it again, or reach them another way.';
  if (sd === '2.3' || sd === '3.4') return 'send a smaller message, for example a link instead of large attachments.';
  if (sd === '6.7') return 'write to an ASCII address of the recipient, if they have one.';
  if (subject === '1') return 'check the address for typing mistakes and send the message again.';
  if (subject === '4') {
    return 'check the domain of the address. If it is right, send the message again later; if it keeps failing, tell the recipient another way.';
  }
  if (subject === '7') {
    return "if you think the refusal is wrong, forward this report to the recipient's postmaster or to your mail administrator.";
  }
  return 'if this keeps happening, forward this report to your mail administrator.';
}

function returnedText(returned: Returned, max: number | undefined): string {
  switch (returned) {
    case 'full':
      return 'Your message is attached in full.';
    case 'headers':
      return 'The headers of your message are attached.';
    case 'too-big':
      return `Your message is larger than ${max} bytes, the limit for returning messages, so only its headers are attached.`;
    case 'long-lines':
      return 'Your message has lines too long to return intact, so only its headers are attached.';
  }
}

/** Word-wrap one paragraph to 76 columns; an indented item gets a hanging indent. Long words stay whole. */
export function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  let empty = true;
  for (const word of text.split(' ')) {
    if (word === '') continue;
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent === '' ? '' : `${indent}  `;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
