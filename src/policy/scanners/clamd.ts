import { reply } from '../../smtp/reply.js';
import { connectTo, parseSocketAddress, type SocketAddress, SocketReader, writeAll } from './socket-address.js';
import type { FailurePolicy, ScanInput, Scanner, ScanVerdict } from './types.js';

/** clamd's answer to one INSTREAM scan. */
export type ClamdResult = { clean: true } | { clean: false; virus: string } | { error: string };

/** Octets per INSTREAM chunk (clamd reads each into memory; its default StreamMaxLength is 25 MB). */
const CHUNK = 64 * 1024;
/** clamd's answers are one short line; anything longer is not clamd. */
const MAX_REPLY = 64 * 1024;

/**
 * Parse clamd's reply to `zINSTREAM`: `stream: OK`, `stream: NAME FOUND`, or `... ERROR`
 * (e.g. `INSTREAM size limit exceeded. ERROR`). The NUL terminator may or may not be present.
 */
export function parseClamdReply(text: string): ClamdResult {
  const line = text.replace(/\0+$/, '').trim();
  const body = line.replace(/^(?:\d+:\s*)?stream:\s*/, '');
  if (body === 'OK') return { clean: true };
  const found = /^([\s\S]+?)\s+FOUND$/.exec(body);
  if (found) return { clean: false, virus: (found[1] as string).replace(/[^\x21-\x7e]/g, '_') };
  return { error: line === '' ? 'empty reply' : line };
}

/** Frame a message for INSTREAM: `zINSTREAM\0`, then 4-octet big-endian length + data chunks, then a zero length. */
export function instreamFrames(message: Buffer): Buffer[] {
  const frames: Buffer[] = [Buffer.from('zINSTREAM\0', 'latin1')];
  for (let at = 0; at < message.length; at += CHUNK) {
    const part = message.subarray(at, at + CHUNK);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(part.length);
    frames.push(len, part);
  }
  frames.push(Buffer.alloc(4));
  return frames;
}

/** ClamAV through clamd's INSTREAM command over TCP or a Unix socket. */
export class ClamdScanner implements Scanner {
  readonly name = 'clamd';
  private readonly address: SocketAddress;

  constructor(
    address: string,
    readonly timeout: number,
    readonly failure: FailurePolicy,
    private readonly maxSize: number,
  ) {
    const parsed = parseSocketAddress(address);
    if (!parsed) throw new Error(`scanning.clamd.address: "${address}" is not host:port or a socket path`);
    this.address = parsed;
  }

  /** Scan the message; a virus rejects it with 554 5.7.1 Virus found: NAME. */
  async scan(input: ScanInput, signal: AbortSignal): Promise<ScanVerdict> {
    if (input.message.length > this.maxSize) {
      return {
        action: 'accept',
        headers: [['X-Virus-Scanned', `skipped by ${input.hostname}: larger than ${this.maxSize} octets`]],
        reason: 'clamd: too large to scan',
      };
    }
    const result = await this.instream(input.message, signal);
    if ('error' in result) throw new Error(`clamd: ${result.error}`);
    if (!result.clean) {
      return {
        action: 'reject',
        reply: reply(554, '5.7.1', `Virus found: ${result.virus}`),
        headers: [],
        reason: `clamd: ${result.virus}`,
      };
    }
    return { action: 'accept', headers: [['X-Virus-Scanned', `ClamAV at ${input.hostname}`]], reason: 'clamd: clean' };
  }

  private async instream(message: Buffer, signal: AbortSignal): Promise<ClamdResult> {
    const socket = await connectTo(this.address, signal);
    try {
      const reader = new SocketReader(socket);
      // clamd may answer (size limit) and close before all is sent; its reply is what counts then.
      void (async () => {
        for (const frame of instreamFrames(message)) await writeAll(socket, frame);
      })().catch(() => {});
      let text = '';
      for (;;) {
        const chunk = await reader.next();
        if (chunk === null) break;
        text += chunk.toString('latin1');
        if (text.includes('\0') || text.length > MAX_REPLY) break;
      }
      if (text === '' && signal.aborted) throw signal.reason;
      return parseClamdReply(text);
    } finally {
      socket.destroy();
    }
  }
}
