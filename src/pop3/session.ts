import type { MailboxService } from '../mailbox/index.js';
import type { MailboxMessage, Store } from '../store/index.js';
import { ERR_PLAINTEXT, type Pop3Auth } from './auth.js';
import { type Pop3Command, parseCommand, parseCount, parseNumber } from './command.js';
import type { MaildropLocks } from './locks.js';

/** What the connection does after a command: write lines, maybe a message body, maybe more. */
export interface Pop3Output {
  /** Response lines without CRLF; a multi-line response includes its "." terminator. */
  lines: string[];
  /** Then send this message dot-stuffed (only the header and `bodyLines` lines for TOP), then ".". */
  body?: { message: MailboxMessage; bodyLines?: number };
  /** Then close the connection, or start TLS (STLS). */
  action?: 'close' | 'starttls';
}

export interface Pop3SessionDeps {
  hostname: string;
  store: Store;
  mailboxes: MailboxService;
  locks: MaildropLocks;
  auth: Pop3Auth;
  /** SASL mechanisms offered in CAPA and AUTH. */
  mechanisms: readonly string[];
  /** STLS can be offered (a certificate is loaded and the connection is not TLS yet). */
  tlsAvailable: boolean;
}

interface Maildrop {
  mailboxId: number;
  uidValidity: number;
  messages: MailboxMessage[];
  deleted: Set<number>;
  retrieved: Set<number>;
}

type State = 'authorization' | 'transaction' | 'closed';

const ok = (text: string): Pop3Output => ({ lines: [text === '' ? '+OK' : `+OK ${text}`] });
const err = (text: string): Pop3Output => ({ lines: [`-ERR ${text}`] });

/**
 * One POP3 session (RFC 1939, 2449, 5034, 2595) as a state machine: command lines in, output
 * out. AUTHORIZATION → TRANSACTION (the INBOX snapshot, locked) → UPDATE at QUIT, where the
 * messages marked with DELE are expunged. A connection that ends any other way changes nothing.
 */
export class Pop3Session {
  private state: State = 'authorization';
  private secure: boolean;
  private userName: string | null = null;
  private drop: Maildrop | null = null;

  constructor(
    private readonly deps: Pop3SessionDeps,
    opts: { secure: boolean },
  ) {
    this.secure = opts.secure;
  }

  /** The greeting line. */
  greeting(): Pop3Output {
    return ok(`${this.deps.hostname} POP3 mailroom ready`);
  }

  /** Whether the connection is TLS (implicit, or after STLS). */
  get isSecure(): boolean {
    return this.secure;
  }

  /** The logged-in user's address, once in TRANSACTION state. */
  get user(): string | null {
    return this.state === 'transaction' ? this.userName : null;
  }

  /** Handle one line from the client (without its CRLF). */
  async handleLine(line: string): Promise<Pop3Output> {
    if (this.state === 'closed') return { lines: [] };
    if (this.deps.auth.inProgress) {
      const p = await this.deps.auth.response(line);
      if (p.type === 'continue') return { lines: [p.line] };
      return p.result.ok ? this.login(p.result.user) : { lines: [p.result.reply] };
    }
    const cmd = parseCommand(line);
    if (!cmd) return err('Invalid command');
    return this.state === 'authorization' ? this.authorization(cmd) : this.transaction(cmd);
  }

  /** A line longer than the limit: refuse it and close (the rest of it cannot be trusted). */
  lineTooLong(): Pop3Output {
    return this.end({ lines: ['-ERR Line too long'], action: 'close' });
  }

  /** The idle time-out passed: nothing is deleted (RFC 1939 section 3). */
  timeout(): Pop3Output {
    return this.end({ lines: ['-ERR Autologout; idle for too long'], action: 'close' });
  }

  /** Server shutdown while idle: end without UPDATE. */
  shutdown(): Pop3Output {
    return this.end({ lines: ['-ERR [SYS/TEMP] Server shutting down'], action: 'close' });
  }

  /** TLS is up after STLS: forget anything said before it (RFC 2595 4). */
  tlsStarted(): void {
    this.secure = true;
    this.userName = null;
  }

  /** The connection is gone: release the mailbox without applying deletions. */
  close(): void {
    this.end({ lines: [] });
  }

  private async authorization(cmd: Pop3Command): Promise<Pop3Output> {
    const { auth } = this.deps;
    switch (cmd.verb) {
      case 'CAPA':
        return this.capa();
      case 'QUIT':
        return this.end({ lines: [`+OK ${this.deps.hostname} POP3 mailroom signing off`], action: 'close' });
      case 'STLS':
        if (this.secure) return err('Already using TLS');
        if (!this.deps.tlsAvailable) return err('STLS not available');
        if (cmd.args.length > 0) return err('STLS takes no arguments');
        return { lines: ['+OK Begin TLS negotiation'], action: 'starttls' };
      case 'USER': {
        if (!auth.allowedHere()) return { lines: [ERR_PLAINTEXT] };
        if (cmd.args.length !== 1) return err('Usage: USER name');
        this.userName = cmd.args[0] as string;
        return ok('Send your password');
      }
      case 'PASS': {
        if (!auth.allowedHere()) return { lines: [ERR_PLAINTEXT] };
        const user = this.userName;
        this.userName = null;
        if (user === null) return err('USER first');
        if (cmd.args.length !== 1) return err('Usage: PASS password');
        const r = await auth.password(user, cmd.args[0] as string);
        return r.ok ? this.login(r.user) : { lines: [r.reply] };
      }
      case 'AUTH': {
        if (cmd.args.length === 0) {
          // Listing the mechanisms (as before RFC 5034) still helps older clients.
          return { lines: ['+OK', ...(auth.allowedHere() ? this.deps.mechanisms : []), '.'] };
        }
        if (!auth.allowedHere()) return { lines: [ERR_PLAINTEXT] };
        if (cmd.args.length > 2) return err('Usage: AUTH mechanism [initial-response]');
        const p = await auth.start(cmd.args[0] as string, cmd.args[1] ?? null);
        if (p.type === 'continue') return { lines: [p.line] };
        return p.result.ok ? this.login(p.result.user) : { lines: [p.result.reply] };
      }
      case 'APOP':
        return err('APOP not supported, use AUTH');
      case 'STAT':
      case 'LIST':
      case 'RETR':
      case 'DELE':
      case 'NOOP':
      case 'RSET':
      case 'TOP':
      case 'UIDL':
        return err('Not logged in');
      default:
        return err('Unknown command');
    }
  }

  private async transaction(cmd: Pop3Command): Promise<Pop3Output> {
    const drop = this.drop as Maildrop;
    switch (cmd.verb) {
      case 'CAPA':
        return this.capa();
      case 'STAT': {
        const live = this.live();
        return ok(`${live.length} ${live.reduce((n, m) => n + m.size, 0)}`);
      }
      case 'LIST':
      case 'UIDL': {
        const show = (n: number, m: MailboxMessage) =>
          cmd.verb === 'LIST' ? `${n} ${m.size}` : `${n} ${drop.uidValidity}.${m.uid}`;
        if (cmd.args.length > 1) return err(`Usage: ${cmd.verb} [message]`);
        if (cmd.args.length === 1) {
          const found = this.message(cmd.args[0]);
          return 'lines' in found ? found : ok(show(found.n, found.m));
        }
        const lines = drop.messages.flatMap((m, i) => (drop.deleted.has(i + 1) ? [] : [show(i + 1, m)]));
        return { lines: [`+OK ${lines.length} messages`, ...lines, '.'] };
      }
      case 'RETR':
      case 'TOP': {
        const want = cmd.verb === 'RETR' ? 1 : 2;
        if (cmd.args.length !== want)
          return err(cmd.verb === 'RETR' ? 'Usage: RETR message' : 'Usage: TOP message lines');
        const bodyLines = cmd.verb === 'TOP' ? parseCount(cmd.args[1]) : undefined;
        if (bodyLines === null) return err('Invalid number of lines');
        const found = this.message(cmd.args[0]);
        if ('lines' in found) return found;
        const [still] = await this.deps.store.getMailboxMessages(drop.mailboxId, [found.m.uid]);
        if (!still) return err('[SYS/PERM] Message has been removed by another session');
        if (cmd.verb === 'RETR') drop.retrieved.add(found.m.uid);
        return {
          lines: [`+OK ${cmd.verb === 'RETR' ? `${found.m.size} octets` : 'Top of message follows'}`],
          body: bodyLines === undefined ? { message: found.m } : { message: found.m, bodyLines },
        };
      }
      case 'DELE': {
        if (cmd.args.length !== 1) return err('Usage: DELE message');
        const found = this.message(cmd.args[0]);
        if ('lines' in found) return found;
        drop.deleted.add(found.n);
        return ok(`Message ${found.n} deleted`);
      }
      case 'NOOP':
        return ok('');
      case 'RSET': {
        drop.deleted.clear();
        const live = this.live();
        return ok(`${live.length} messages (${live.reduce((n, m) => n + m.size, 0)} octets)`);
      }
      case 'QUIT':
        return this.update();
      case 'USER':
      case 'PASS':
      case 'AUTH':
      case 'APOP':
      case 'STLS':
        return err('Already logged in');
      default:
        return err('Unknown command');
    }
  }

  private capa(): Pop3Output {
    const { auth } = this.deps;
    const lines = ['+OK Capability list follows', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
    if (this.state === 'authorization') {
      if (auth.allowedHere()) lines.push('USER', `SASL ${this.deps.mechanisms.join(' ')}`);
      if (!this.secure && this.deps.tlsAvailable) lines.push('STLS');
    }
    lines.push('IMPLEMENTATION mailroom', '.');
    return { lines };
  }

  /** Enter TRANSACTION: lock the INBOX and take its snapshot. */
  private async login(address: string): Promise<Pop3Output> {
    const user = await this.deps.store.getUser(address);
    if (!user) return err('[AUTH] Authentication failed');
    const inbox = await this.deps.mailboxes.require(user.id, 'INBOX');
    if (!this.deps.locks.acquire(inbox.id)) return err('[IN-USE] Mailbox is locked by another POP3 session');
    try {
      const messages = await this.deps.mailboxes.messages(inbox.id);
      this.drop = {
        mailboxId: inbox.id,
        uidValidity: inbox.uidValidity,
        messages,
        deleted: new Set(),
        retrieved: new Set(),
      };
    } catch (e) {
      this.deps.locks.release(inbox.id);
      throw e;
    }
    this.state = 'transaction';
    this.userName = user.address;
    const size = this.drop.messages.reduce((n, m) => n + m.size, 0);
    return ok(`Logged in, ${this.drop.messages.length} messages (${size} octets)`);
  }

  /** QUIT in TRANSACTION: the UPDATE state (RFC 1939 section 6). */
  private async update(): Promise<Pop3Output> {
    const drop = this.drop as Maildrop;
    const uids = [...drop.deleted].map((n) => (drop.messages[n - 1] as MailboxMessage).uid);
    try {
      const read = [...drop.retrieved].filter((uid) => !uids.includes(uid));
      // Mail read over POP3 shows as read in IMAP clients too.
      if (read.length > 0) {
        await this.deps.mailboxes.storeFlags(drop.mailboxId, { uids: read, mode: 'add', flags: ['\\Seen'] });
      }
      if (uids.length > 0) await this.deps.mailboxes.expunge(drop.mailboxId, { uids, deletedOnly: false });
    } catch {
      return this.end({ lines: ['-ERR [SYS/TEMP] Some deleted messages were not removed'], action: 'close' });
    }
    const left = drop.messages.length - uids.length;
    return this.end({
      lines: [`+OK ${this.deps.hostname} POP3 mailroom signing off (${left} messages left)`],
      action: 'close',
    });
  }

  private end(out: Pop3Output): Pop3Output {
    if (this.drop) this.deps.locks.release(this.drop.mailboxId);
    this.drop = null;
    this.state = 'closed';
    this.deps.auth.reset();
    return out;
  }

  private live(): MailboxMessage[] {
    const drop = this.drop as Maildrop;
    return drop.messages.filter((_, i) => !drop.deleted.has(i + 1));
  }

  private message(arg: string | undefined): { n: number; m: MailboxMessage } | Pop3Output {
    const drop = this.drop as Maildrop;
    const n = parseNumber(arg);
    if (n === null) return err('Invalid message number');
    const m = drop.messages[n - 1];
    if (!m) return err('No such message');
    if (drop.deleted.has(n)) return err(`Message ${n} already deleted`);
    return { n, m };
  }
}
