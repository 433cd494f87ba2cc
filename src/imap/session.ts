import type { Logger } from 'pino';
import type { SaslMechanism, SaslStep } from '../auth/index.js';
import { MailboxError, type MailboxService } from '../mailbox/index.js';
import type { AuthThrottle } from '../policy/index.js';
import type { Store, User } from '../store/index.js';
import type { Out } from './encode.js';
import { mailboxCommand } from './mailbox-commands.js';
import { messageCommand } from './message-commands.js';
import { type ImapCommand, parseCommand } from './parser/command.js';
import type { CommandParts } from './reader.js';
import type { SelectedMailbox } from './selected.js';

/** The tagged status and untagged lines a command produced. */
export interface Reply {
  out: Out[];
  status: 'OK' | 'NO' | 'BAD';
  text: string;
}

/** What the connection must do after writing a step's output. */
export type Next = 'auth' | 'idle' | 'starttls' | 'close';

export interface Step {
  out: Out[];
  next?: Next;
}

export interface ImapAuth {
  mechanisms: readonly string[];
  create(name: string): SaslMechanism | null;
  throttle: AuthThrottle;
  logger: Logger;
}

export interface ImapDeps {
  hostname: string;
  store: Store;
  mailboxes: MailboxService;
  auth: ImapAuth;
  /** Largest message APPEND accepts. */
  messageSize: number;
  /** Allow LOGIN and AUTHENTICATE without TLS from loopback clients. */
  plaintextOnLoopback: boolean;
  /** Whether STARTTLS is possible on this listener. */
  tlsAvailable: boolean;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export interface ImapSessionInfo {
  id: string;
  remoteAddress: string;
  /** TLS from the start (imaps). */
  tls: boolean;
}

/** State shared with the command handlers. */
export interface SessionContext {
  deps: ImapDeps;
  user: User;
  selected: SelectedMailbox | null;
  /** CONDSTORE / QRESYNC turned on (ENABLE, or a CONDSTORE-using command). */
  condstore: boolean;
  qresync: boolean;
  /** Identifies this session's own changes in mailbox notices. */
  origin: object;
  /** Tag of the running command (ESEARCH correlator). */
  tag: string;
  select(selected: SelectedMailbox | null): void;
}

const ANY_STATE = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'ID']);
const NOT_AUTH = new Set(['STARTTLS', 'LOGIN', 'AUTHENTICATE']);
const SELECTED_ONLY = new Set([
  'CHECK',
  'CLOSE',
  'UNSELECT',
  'EXPUNGE',
  'UID EXPUNGE',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
]);
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * One IMAP session as a state machine (RFC 3501 3): not authenticated, authenticated, selected,
 * logout. It is given whole commands and returns what to send; the connection owns the socket.
 */
export class ImapSession {
  private state: 'notauth' | 'auth' | 'selected' | 'logout' = 'notauth';
  private secure: boolean;
  private user: User | null = null;
  private selected: SelectedMailbox | null = null;
  private condstore = false;
  private qresync = false;
  private readonly origin = {};
  /** A SASL exchange in progress; `user` is set once it succeeded and only the client's empty line is awaited. */
  private sasl: { tag: string; mechanism: SaslMechanism; user: string | null } | null = null;
  private idleTag: string | null = null;

  constructor(
    private readonly deps: ImapDeps,
    private readonly info: ImapSessionInfo,
  ) {
    this.secure = info.tls;
  }

  /** The greeting line. */
  greeting(): string {
    return `* OK [CAPABILITY ${this.capabilities().join(' ')}] ${this.deps.hostname} IMAP mailroom ready.\r\n`;
  }

  /** The user logged in, if any. */
  get username(): string | null {
    return this.user?.address ?? null;
  }

  /** TLS is now on (after STARTTLS). */
  tlsStarted(): void {
    this.secure = true;
  }

  private plaintextAllowed(): boolean {
    return this.secure || (this.deps.plaintextOnLoopback && LOOPBACK.test(this.info.remoteAddress));
  }

  /** Capabilities for the current state. */
  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'SASL-IR', 'LITERAL+', 'ID', 'ENABLE', 'IDLE'];
    if (this.state === 'notauth') {
      if (!this.secure && this.deps.tlsAvailable) caps.push('STARTTLS');
      if (this.plaintextAllowed()) {
        for (const m of this.deps.auth.mechanisms) if (m === 'PLAIN' || m === 'SCRAM-SHA-256') caps.push(`AUTH=${m}`);
      } else caps.push('LOGINDISABLED');
      return caps;
    }
    return [
      ...caps,
      'NAMESPACE',
      'UIDPLUS',
      'MOVE',
      'UNSELECT',
      'CHILDREN',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'SPECIAL-USE',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      'BINARY',
      'QUOTA',
      'STATUS=SIZE',
    ];
  }

  /** Run one complete command. */
  async handle(parts: CommandParts): Promise<Step> {
    const parsed = parseCommand(parts);
    if (!parsed.ok) {
      if (parsed.badCharset) return tagged(parsed.tag, 'NO', '[BADCHARSET (US-ASCII UTF-8)] Unsupported charset');
      return tagged(parsed.tag, 'BAD', parsed.text);
    }
    const { tag, command } = parsed;
    const allowed = this.allowed(command.name);
    if (allowed !== null) return tagged(tag, 'BAD', allowed);
    try {
      return await this.run(tag, command);
    } catch (err) {
      if (err instanceof MailboxError) return tagged(tag, 'NO', `[${err.code}] ${err.message}`);
      this.deps.logger.error({ err, conn: this.info.id, command: command.name }, 'IMAP command failed');
      return tagged(tag, 'NO', '[SERVERBUG] Internal error occurred. Refer to server log for more information.');
    }
  }

  private allowed(name: string): string | null {
    if (ANY_STATE.has(name)) return null;
    if (this.state === 'notauth') return NOT_AUTH.has(name) ? null : 'Command not permitted while not logged in';
    if (NOT_AUTH.has(name)) return 'Command not permitted while logged in';
    if (SELECTED_ONLY.has(name) && this.state !== 'selected') return 'No mailbox selected';
    return null;
  }

  private context(tag: string): SessionContext {
    return {
      tag,
      deps: this.deps,
      user: this.user!,
      selected: this.selected,
      condstore: this.condstore,
      qresync: this.qresync,
      origin: this.origin,
      select: (s) => {
        this.selected?.close();
        this.selected = s;
        this.state = s ? 'selected' : 'auth';
      },
    };
  }

  private async run(tag: string, c: ImapCommand): Promise<Step> {
    switch (c.name) {
      case 'CAPABILITY':
        return this.finish(tag, {
          out: [`* CAPABILITY ${this.capabilities().join(' ')}\r\n`],
          status: 'OK',
          text: 'Capability completed.',
        });
      case 'NOOP':
      case 'CHECK':
        return this.finish(tag, { out: [], status: 'OK', text: `${c.name === 'NOOP' ? 'NOOP' : 'Check'} completed.` });
      case 'LOGOUT':
        this.logout();
        return { out: ['* BYE Logging out\r\n', `${tag} OK Logout completed.\r\n`], next: 'close' };
      case 'ID':
        return tagged(tag, 'OK', 'ID completed.', ['* ID ("name" "mailroom")\r\n']);
      case 'STARTTLS':
        if (this.secure) return tagged(tag, 'BAD', 'TLS is already active.');
        if (!this.deps.tlsAvailable) return tagged(tag, 'BAD', 'TLS is not available.');
        return { out: [`${tag} OK Begin TLS negotiation now.\r\n`], next: 'starttls' };
      case 'LOGIN':
        return this.login(tag, c.user, c.password);
      case 'AUTHENTICATE':
        return this.authenticate(tag, c.mechanism, c.initial);
      case 'ENABLE': {
        const enabled: string[] = [];
        for (const cap of c.capabilities) {
          if (cap === 'CONDSTORE' && !this.condstore) {
            this.condstore = true;
            enabled.push(cap);
          } else if (cap === 'QRESYNC' && !this.qresync) {
            this.qresync = true;
            this.condstore = true;
            enabled.push(cap);
          }
        }
        return tagged(tag, 'OK', 'Enabled.', [`* ENABLED${enabled.map((e) => ` ${e}`).join('')}\r\n`]);
      }
      case 'IDLE':
        this.idleTag = tag;
        return { out: [...this.updates(true), '+ idling\r\n'], next: 'idle' };
      default: {
        const ctx = this.context(tag);
        const reply = (await mailboxCommand(ctx, c)) ?? (await messageCommand(ctx, c));
        if (ctx.condstore) this.condstore = true;
        if (!reply) return tagged(tag, 'BAD', 'Unknown command');
        const expunges = !(c.name === 'FETCH' || c.name === 'STORE' || c.name === 'SEARCH') || ('uid' in c && c.uid);
        return this.finish(tag, reply, expunges);
      }
    }
  }

  /** The tagged reply after the untagged updates that are due. */
  private finish(tag: string, reply: Reply, expunges = true): Step {
    const updates = reply.status === 'BAD' ? [] : this.updates(expunges);
    return { out: [...reply.out, ...updates, `${tag} ${reply.status} ${reply.text}\r\n`] };
  }

  /** Untagged EXISTS/EXPUNGE/FETCH for changes made by others. */
  updates(expunges = true): string[] {
    if (!this.selected) return [];
    return this.selected.flush({ expunges, condstore: this.condstore, qresync: this.qresync }).map((l) => `${l}\r\n`);
  }

  /** While IDLE: call `notify` when an update is waiting (the connection then asks for updates()). */
  watch(notify: (() => void) | null): void {
    if (this.selected) this.selected.onChange = notify;
  }

  /** The line that ends IDLE. */
  idleDone(line: string): Step {
    const tag = this.idleTag ?? '*';
    this.idleTag = null;
    this.watch(null);
    if (line.toUpperCase() !== 'DONE') return { out: [...this.updates(), `${tag} BAD Expected DONE.\r\n`] };
    return { out: [...this.updates(), `${tag} OK Idle completed.\r\n`] };
  }

  private async login(tag: string, username: string, password: string): Promise<Step> {
    if (!this.plaintextAllowed()) {
      return tagged(
        tag,
        'NO',
        '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
      );
    }
    const mechanism = this.deps.auth.create('PLAIN');
    if (!mechanism) return tagged(tag, 'NO', 'Authentication is not available.');
    const initial = Buffer.from(`\0${username}\0${password}`, 'utf8');
    this.sasl = { tag, mechanism, user: null };
    return this.saslResult(tag, username, () => mechanism.start(initial));
  }

  private async authenticate(tag: string, name: string, initial: string | null): Promise<Step> {
    const upper = name.toUpperCase();
    if (!this.plaintextAllowed()) {
      return tagged(
        tag,
        'NO',
        '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
      );
    }
    const mechanism =
      upper === 'PLAIN' || upper === 'SCRAM-SHA-256'
        ? this.deps.auth.mechanisms.includes(upper)
          ? this.deps.auth.create(upper)
          : null
        : null;
    if (!mechanism) return tagged(tag, 'NO', 'Unsupported authentication mechanism.');
    let data: Buffer | null = null;
    if (initial !== null) {
      if (initial !== '=' && !/^[A-Za-z0-9+/]*={0,2}$/.test(initial))
        return tagged(tag, 'BAD', 'Invalid base64 data in initial response.');
      data = initial === '=' ? Buffer.alloc(0) : Buffer.from(initial, 'base64');
    }
    this.sasl = { tag, mechanism, user: null };
    return this.saslResult(tag, null, () => mechanism.start(data));
  }

  /** A client line during AUTHENTICATE (base64, or `*` to cancel). */
  async authResponse(line: string): Promise<Step> {
    const sasl = this.sasl;
    if (!sasl) return { out: [] };
    if (line === '*') {
      this.sasl = null;
      return tagged(sasl.tag, 'BAD', 'Authentication aborted by client.');
    }
    if (sasl.user !== null) {
      // The empty line after our SCRAM server-final message (RFC 9051 6.2.2).
      this.sasl = null;
      if (line !== '') return tagged(sasl.tag, 'BAD', 'Expected an empty response.');
      return this.loggedIn(sasl.tag, sasl.user);
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(line)) {
      this.sasl = null;
      return tagged(sasl.tag, 'BAD', 'Invalid base64 data in continued response.');
    }
    return this.saslResult(sasl.tag, null, () => sasl.mechanism.step(Buffer.from(line, 'base64')));
  }

  private async saslResult(tag: string, claimed: string | null, run: () => Promise<SaslStep>): Promise<Step> {
    const ip = this.info.remoteAddress;
    const throttle = this.deps.auth.throttle;
    const before = await throttle.before(ip, claimed);
    if (before.action === 'refuse') {
      this.sasl = null;
      return tagged(tag, 'NO', '[UNAVAILABLE] Too many failed logins, try again later.');
    }
    const step = await run();
    if (step.type === 'challenge') return { out: [`+ ${step.data.toString('base64')}\r\n`], next: 'auth' };
    if (step.type === 'failure') {
      this.sasl = null;
      if (step.reason === 'malformed') return tagged(tag, 'BAD', 'Invalid authentication data.');
      const delay = await throttle.failed(ip, step.user);
      if (delay > 0) await (this.deps.sleep ?? defaultSleep)(delay);
      this.deps.auth.logger.info({ conn: this.info.id, client: ip, user: step.user, protocol: 'imap' }, 'login failed');
      if (step.reason === 'disabled') return tagged(tag, 'NO', '[AUTHENTICATIONFAILED] Account disabled.');
      return tagged(tag, 'NO', '[AUTHENTICATIONFAILED] Authentication failed.');
    }
    if (step.final && step.final.length > 0) {
      this.sasl = { tag, mechanism: this.sasl!.mechanism, user: step.user };
      return { out: [`+ ${step.final.toString('base64')}\r\n`], next: 'auth' };
    }
    this.sasl = null;
    return this.loggedIn(tag, step.user);
  }

  private async loggedIn(tag: string, address: string): Promise<Step> {
    const user = await this.deps.store.getUser(address);
    if (!user) return tagged(tag, 'NO', '[AUTHENTICATIONFAILED] Authentication failed.');
    await this.deps.auth.throttle.succeeded(user.address);
    await this.deps.mailboxes.ensureDefaults(user.id);
    this.user = user;
    this.state = 'auth';
    this.deps.auth.logger.info(
      { conn: this.info.id, client: this.info.remoteAddress, user: user.address, protocol: 'imap' },
      'logged in',
    );
    return tagged(tag, 'OK', `[CAPABILITY ${this.capabilities().join(' ')}] Logged in`);
  }

  /** Leave every state (logout or connection closed). */
  logout(): void {
    this.selected?.close();
    this.selected = null;
    this.state = 'logout';
  }
}

function tagged(tag: string, status: 'OK' | 'NO' | 'BAD', text: string, untagged: Out[] = []): Step {
  return { out: [...untagged, `${tag} ${status} ${text}\r\n`] };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
