import type net from 'node:net';
import { type Reply, reply } from '../../smtp/reply.js';
import { bodyOf, splitMessage } from './message-edit.js';
import {
  Action,
  Cmd,
  cstrings,
  decodeOptneg,
  encodeConnect,
  encodeMacros,
  encodeOptneg,
  encodePacket,
  type MilterPacket,
  PacketDecoder,
  Proto,
  parseReplyCode,
  Rep,
  splitCStrings,
} from './milter-codec.js';
import { connectTo, parseSocketAddress, type SocketAddress, SocketReader, writeAll } from './socket-address.js';
import type { FailurePolicy, HeaderEdit, ScanInput, Scanner, ScanVerdict } from './types.js';

/** What we let milters do: header changes, body replacement, quarantine (no envelope changes). */
const OFFERED_ACTIONS = Action.ADDHDRS | Action.CHGHDRS | Action.CHGBODY | Action.QUARANTINE;
/** Steps a milter may skip or leave unanswered; all of them are honoured below. */
const OFFERED_PROTOCOL =
  Proto.NOCONNECT |
  Proto.NOHELO |
  Proto.NOMAIL |
  Proto.NORCPT |
  Proto.NOBODY |
  Proto.NOHDRS |
  Proto.NOEOH |
  Proto.NR_HDR |
  Proto.NOUNKNOWN |
  Proto.NODATA |
  Proto.SKIP |
  Proto.NR_CONN |
  Proto.NR_HELO |
  Proto.NR_MAIL |
  Proto.NR_RCPT |
  Proto.NR_DATA |
  Proto.NR_UNKN |
  Proto.NR_EOH |
  Proto.NR_BODY |
  Proto.HDR_LEADSPC;
const BODY_CHUNK = 65535;

const REJECTED = reply(550, '5.7.1', 'Command rejected');
const TEMPFAILED = reply(451, '4.7.1', 'Service unavailable - try again later');

/** How one step of the conversation ended. */
type StepResult =
  | { kind: 'continue' }
  | { kind: 'skip' }
  | { kind: 'final'; verdict: ScanVerdict }
  /** The milter accepted the message as it is and wants nothing more. */
  | { kind: 'accept' };

/** A milter (Sendmail/Postfix milter protocol version 6) asked at the end of DATA. */
export class MilterScanner implements Scanner {
  readonly name: string;
  private readonly address: SocketAddress;

  constructor(
    address: string,
    readonly timeout: number,
    readonly failure: FailurePolicy,
  ) {
    const parsed = parseSocketAddress(address);
    if (!parsed) throw new Error(`scanning.milters: "${address}" is not host:port, inet:port@host or a socket path`);
    this.address = parsed;
    this.name = `milter ${address}`;
  }

  /** Run one whole milter conversation for the message. */
  async scan(input: ScanInput, signal: AbortSignal): Promise<ScanVerdict> {
    const socket = await connectTo(this.address, signal);
    try {
      return await new MilterConversation(socket, input, this.name).run();
    } finally {
      socket.destroy();
    }
  }
}

/** One connection to a milter, from negotiation to QUIT. */
class MilterConversation {
  private readonly reader: SocketReader;
  private readonly decoder = new PacketDecoder();
  private protocol = 0;
  private readonly edits: HeaderEdit[] = [];
  private readonly bodyParts: Buffer[] = [];
  private quarantine: string | null = null;
  /** Recipients the milter refused at RCPT (while others remained). */
  private dropped: string[] = [];

  constructor(
    private readonly socket: net.Socket,
    private readonly input: ScanInput,
    private readonly name: string,
  ) {
    this.reader = new SocketReader(socket);
  }

  async run(): Promise<ScanVerdict> {
    const verdict = await this.converse();
    // Tell the milter we are done; it may already have closed, which is fine.
    await writeAll(this.socket, encodePacket(Cmd.QUIT)).catch(() => {});
    return verdict;
  }

  private async converse(): Promise<ScanVerdict> {
    const { input } = this;
    await this.send(encodeOptneg(6, OFFERED_ACTIONS, OFFERED_PROTOCOL));
    const neg = await this.read();
    if (neg.cmd !== Rep.OPTNEG) throw new Error(`${this.name}: expected option negotiation, got '${neg.cmd}'`);
    const opt = decodeOptneg(neg.data);
    if (opt.version < 2) throw new Error(`${this.name}: milter protocol version ${opt.version} is too old`);
    this.protocol = opt.protocol & OFFERED_PROTOCOL;

    const tls = input.client.tls?.split(' ') ?? [];
    const steps: (() => Promise<StepResult>)[] = [
      () =>
        this.stage(
          Proto.NOCONNECT,
          Proto.NR_CONN,
          Cmd.CONNECT,
          encodeConnect(`[${input.client.ip}]`, input.client.ip, input.client.port),
          {
            j: input.hostname,
            _: `[${input.client.ip}]`,
            '{daemon_name}': input.hostname,
            '{client_addr}': input.client.ip,
            '{client_port}': String(input.client.port),
            '{client_name}': `[${input.client.ip}]`,
          },
        ),
      () =>
        this.stage(Proto.NOHELO, Proto.NR_HELO, Cmd.HELO, encodePacket(Cmd.HELO, cstrings(input.client.helo ?? '')), {
          '{tls_version}': tls[0],
          '{cipher}': tls[1],
        }),
      () =>
        this.stage(Proto.NOMAIL, Proto.NR_MAIL, Cmd.MAIL, encodePacket(Cmd.MAIL, cstrings(`<${input.mailFrom}>`)), {
          i: input.queueId,
          '{mail_addr}': input.mailFrom,
          '{auth_authen}': input.user ?? undefined,
        }),
    ];
    for (const step of steps) {
      const r = await step();
      if (r.kind === 'final') return r.verdict;
      if (r.kind === 'accept') return this.verdict('accept');
    }
    const rcptVerdict = await this.recipients();
    if (rcptVerdict) return rcptVerdict;
    const data = await this.stage(Proto.NODATA, Proto.NR_DATA, Cmd.DATA, encodePacket(Cmd.DATA), {});
    if (data.kind === 'final') return data.verdict;
    if (data.kind === 'accept') return this.verdict('accept');
    const content = await this.content();
    if (content) return content;
    return this.endOfMessage();
  }

  /** Each recipient; one the milter refuses is dropped, and its answer ends the scan when none is left. */
  private async recipients(): Promise<ScanVerdict | null> {
    let refusal: ScanVerdict | undefined;
    let kept = 0;
    for (const rcpt of this.input.recipients) {
      const packet = encodePacket(Cmd.RCPT, cstrings(`<${rcpt}>`));
      const r = await this.stage(Proto.NORCPT, Proto.NR_RCPT, Cmd.RCPT, packet, { '{rcpt_addr}': rcpt });
      if (r.kind === 'accept') return this.verdict('accept');
      if (r.kind === 'final' && (r.verdict.action === 'reject' || r.verdict.action === 'tempfail')) {
        refusal = r.verdict;
        this.dropped.push(rcpt);
        continue;
      }
      if (r.kind === 'final') return r.verdict;
      kept++;
    }
    if (kept === 0 && refusal) {
      this.dropped = [];
      return { ...refusal, dropRecipients: undefined };
    }
    return null;
  }

  /** Header fields, end of header, body chunks. */
  private async content(): Promise<ScanVerdict | null> {
    const split = splitMessage(this.input.message);
    const lead = (this.protocol & Proto.HDR_LEADSPC) !== 0;
    if (!(this.protocol & Proto.NOHDRS)) {
      for (const f of split.fields) {
        // Folded values go over with bare LF line breaks, as Sendmail and Postfix send them.
        let value = f.value.replace(/\r\n/g, '\n');
        if (!lead && value.startsWith(' ')) value = value.slice(1);
        const r = await this.exchange(encodePacket(Cmd.HEADER, cstrings(f.name, value)), Proto.NR_HDR);
        if (r.kind === 'final') return r.verdict;
        if (r.kind === 'accept') return this.verdict('accept');
        if (r.kind === 'skip') break;
      }
    }
    const eoh = await this.stage(Proto.NOEOH, Proto.NR_EOH, Cmd.EOH, encodePacket(Cmd.EOH), {});
    if (eoh.kind === 'final') return eoh.verdict;
    if (eoh.kind === 'accept') return this.verdict('accept');
    if (!(this.protocol & Proto.NOBODY)) {
      const body = bodyOf(split);
      for (let at = 0; at < body.length; at += BODY_CHUNK) {
        const r = await this.exchange(encodePacket(Cmd.BODY, body.subarray(at, at + BODY_CHUNK)), Proto.NR_BODY);
        if (r.kind === 'final') return r.verdict;
        if (r.kind === 'accept') return this.verdict('accept');
        if (r.kind === 'skip') break;
      }
    }
    return null;
  }

  /** SMFIC_BODYEOB: collect modifications until the final answer. */
  private async endOfMessage(): Promise<ScanVerdict> {
    await this.send(encodeMacros(Cmd.BODYEOB, { i: this.input.queueId }));
    await this.send(encodePacket(Cmd.BODYEOB));
    for (;;) {
      const p = await this.read();
      switch (p.cmd) {
        case Rep.ADDHEADER: {
          const [name, value] = splitCStrings(p.data);
          if (name) this.edits.push({ op: 'add', name, value: value ?? '' });
          break;
        }
        case Rep.INSHEADER: {
          if (p.data.length < 4) throw new Error(`${this.name}: short insert-header request`);
          const [name, value] = splitCStrings(p.data.subarray(4));
          if (name) this.edits.push({ op: 'insert', index: p.data.readUInt32BE(0), name, value: value ?? '' });
          break;
        }
        case Rep.CHGHEADER: {
          if (p.data.length < 4) throw new Error(`${this.name}: short change-header request`);
          const [name, value] = splitCStrings(p.data.subarray(4));
          if (name) this.edits.push({ op: 'change', index: p.data.readUInt32BE(0), name, value: value ?? '' });
          break;
        }
        case Rep.REPLBODY:
          this.bodyParts.push(p.data);
          break;
        case Rep.QUARANTINE:
          this.quarantine = splitCStrings(p.data)[0] || 'quarantined by milter';
          break;
        case Rep.PROGRESS:
          break;
        case Rep.ADDRCPT:
        case Rep.DELRCPT:
        case Rep.ADDRCPT_PAR:
        case Rep.CHGFROM:
          // Not offered in negotiation; a milter that asks anyway is ignored rather than obeyed.
          break;
        default: {
          const r = this.answer(p);
          if (r.kind === 'final') return r.verdict;
          return this.verdict('accept');
        }
      }
    }
  }

  /** One protocol stage: its macros, the command, and (unless `noReply`) the milter's answer. */
  private async stage(
    skipFlag: number,
    noReplyFlag: number,
    cmd: string,
    packet: Buffer,
    macros: Record<string, string | undefined>,
  ): Promise<StepResult> {
    if (this.protocol & skipFlag) return { kind: 'continue' };
    await this.send(encodeMacros(cmd, macros));
    return this.exchange(packet, noReplyFlag);
  }

  private async exchange(packet: Buffer, noReplyFlag: number): Promise<StepResult> {
    await this.send(packet);
    if (this.protocol & noReplyFlag) return { kind: 'continue' };
    for (;;) {
      const p = await this.read();
      if (p.cmd === Rep.PROGRESS) continue;
      return this.answer(p);
    }
  }

  /** Map a milter's answer to a step result. */
  private answer(p: MilterPacket): StepResult {
    switch (p.cmd) {
      case Rep.CONTINUE:
        return { kind: 'continue' };
      case Rep.SKIP:
        return { kind: 'skip' };
      case Rep.ACCEPT:
        return { kind: 'accept' };
      case Rep.REJECT:
        return this.final('reject', REJECTED);
      case Rep.TEMPFAIL:
      case Rep.SHUTDOWN:
      case Rep.CONN_FAIL:
        return this.final('tempfail', TEMPFAILED);
      case Rep.DISCARD:
        return this.final('discard');
      case Rep.REPLYCODE: {
        const rc = parseReplyCode(p.data);
        if (!rc) return this.final('tempfail', TEMPFAILED);
        const r: Reply = reply(rc.code, rc.enhanced, ...rc.lines);
        return this.final(rc.code >= 500 ? 'reject' : 'tempfail', r);
      }
      default:
        throw new Error(`${this.name}: unexpected reply '${p.cmd}'`);
    }
  }

  private final(action: 'reject' | 'tempfail' | 'discard', r?: Reply): StepResult {
    return { kind: 'final', verdict: this.verdict(action, r) };
  }

  /** The verdict so far; a quarantine request turns an accept into quarantine. */
  private verdict(action: ScanVerdict['action'], r?: Reply): ScanVerdict {
    const quarantined = action === 'accept' && this.quarantine !== null;
    const v: ScanVerdict = {
      action: quarantined ? 'quarantine' : action,
      headers: [],
      edits: this.edits,
      reason: quarantined ? `${this.name}: ${this.quarantine}` : `${this.name}: ${action}`,
    };
    if (r) v.reply = r;
    if (this.bodyParts.length > 0) v.body = Buffer.concat(this.bodyParts);
    if (this.dropped.length > 0) v.dropRecipients = this.dropped;
    return v;
  }

  private send(packet: Buffer): Promise<void> {
    return writeAll(this.socket, packet);
  }

  private async read(): Promise<MilterPacket> {
    for (;;) {
      const p = this.decoder.next();
      if (p) return p;
      const chunk = await this.reader.next();
      if (chunk === null) throw new Error(`${this.name}: connection closed by the milter`);
      this.decoder.push(chunk);
    }
  }
}
