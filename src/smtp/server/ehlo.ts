import { type Reply, reply } from '../reply.js';

/** The EHLO reply: our name, then one line per extension we offer. */
export function ehloReply(opts: {
  hostname: string;
  clientName: string;
  messageSize: number;
  startTls: boolean;
  /** The `AUTH mech...` line, or null when AUTH is not offered now. */
  auth: string | null;
}): Reply {
  const lines = [
    `${opts.hostname} greets ${opts.clientName.replace(/[^\x21-\x7e]/g, '?').slice(0, 255)}`,
    'PIPELINING',
    `SIZE ${opts.messageSize}`,
    '8BITMIME',
    'SMTPUTF8',
    'ENHANCEDSTATUSCODES',
    'CHUNKING',
    'BINARYMIME',
    'DSN',
  ];
  if (opts.startTls) lines.push('STARTTLS');
  if (opts.auth) lines.push(opts.auth);
  lines.push('HELP');
  // RFC 2034: the EHLO reply itself carries no enhanced status code.
  return reply(250, null, ...lines);
}

/** HELP: the commands this server understands. */
export function helpReply(): Reply {
  return reply(
    214,
    '2.0.0',
    'Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY EXPN STARTTLS',
    'See RFC 5321; mailroom documentation: docs/',
  );
}
