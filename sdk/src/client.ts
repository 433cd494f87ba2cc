import { errorFromResponse, MailroomError } from './errors.js';
import { fillPath, ROUTES, type RouteName } from './routes.js';
import type {
  BatchResult,
  ListFilter,
  Message,
  MessagePage,
  MessageSummary,
  QueueActionResult,
  RecipientStateName,
  SendMessage,
  SendResult,
  Stats,
  Suppression,
  SuppressionInput,
  SuppressionPage,
} from './types.js';

/** Options of the client. */
export interface MailroomOptions {
  /** e.g. `http://127.0.0.1:8025` */
  baseUrl: string;
  apiKey: string;
  /** A fetch implementation; Node's global fetch by default. */
  fetch?: typeof fetch;
}

/** Options of a send. */
export interface SendOptions {
  /** Same key and body within 24 h returns the first answer; another body is a 409. */
  idempotencyKey?: string;
}

/** Options of waitFor: `timeout` and `interval` in milliseconds (defaults 30 000 and 500). */
export interface WaitOptions {
  timeout?: number;
  interval?: number;
  /** For tests and cancellation. */
  signal?: AbortSignal;
}

/** A page of messages; iterate it with `for await` to walk this page and every following one. */
export interface MessageList extends MessagePage, AsyncIterable<MessageSummary> {
  /** The next page, or null after the last. */
  nextPage(): Promise<MessageList | null>;
}

interface CallInit {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** States after which a recipient will not change on its own. */
const FINAL = new Set(['delivered', 'bounced', 'expired']);

/** Wait `ms`, or reject with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A typed client of the mailroom HTTP API. */
export class Mailroom {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;

  /** Suppression list operations. */
  readonly suppressions = {
    list: (query: { limit?: number; cursor?: string } = {}) =>
      this.json<SuppressionPage>('listSuppressions', { query }),
    get: (address: string) => this.json<Suppression>('getSuppression', { params: { address } }),
    add: (input: SuppressionInput | string) =>
      this.json<Suppression>('addSuppression', { json: typeof input === 'string' ? { address: input } : input }),
    remove: async (address: string) => {
      await this.call('removeSuppression', { params: { address } });
    },
  };

  constructor(opts: MailroomOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }

  /** Send a message built from JSON fields; resolves with the message id and each recipient's outcome. */
  send(message: SendMessage, opts: SendOptions = {}): Promise<SendResult> {
    return this.json<SendResult>('send', { json: message, headers: idempotency(opts) });
  }

  /** Send a raw RFC 5322 message as is; the sender is its From: and the recipients its To:, Cc: and Bcc:. */
  sendRaw(rfc822: string | Uint8Array, opts: SendOptions = {}): Promise<SendResult> {
    return this.json<SendResult>('send', {
      body: rfc822,
      headers: { 'content-type': 'message/rfc822', ...idempotency(opts) },
    });
  }

  /** Send up to `http.batchSize` messages; each item has its own status. */
  sendBatch(messages: SendMessage[]): Promise<BatchResult> {
    return this.json<BatchResult>('sendBatch', { json: { messages } });
  }

  /** One message with each recipient's state and its timeline. */
  get(id: string): Promise<Message> {
    return this.json<Message>('get', { params: { id } });
  }

  /** The stored RFC 5322 message while it is in the queue. */
  async raw(id: string): Promise<Uint8Array> {
    const res = await this.call('raw', { params: { id } });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** A page of messages, newest first; `for await` over it walks every following page too. */
  async list(filter: ListFilter = {}): Promise<MessageList> {
    const query: Record<string, string | number | undefined> = {
      ...filter,
      since: filter.since instanceof Date ? filter.since.toISOString() : filter.since,
      until: filter.until instanceof Date ? filter.until.toISOString() : filter.until,
    };
    const page = await this.json<MessagePage>('list', { query });
    const nextPage = () =>
      page.next_cursor === null ? Promise.resolve(null) : this.list({ ...filter, cursor: page.next_cursor });
    return {
      ...page,
      nextPage,
      async *[Symbol.asyncIterator]() {
        yield* page.data;
        let next = await nextPage();
        while (next) {
          yield* next.data;
          next = await next.nextPage();
        }
      },
    };
  }

  /** Deferred recipients become due now. */
  retry(id: string): Promise<QueueActionResult> {
    return this.json<QueueActionResult>('retry', { params: { id } });
  }

  /** Queued and deferred recipients are held. */
  hold(id: string): Promise<QueueActionResult> {
    return this.json<QueueActionResult>('hold', { params: { id } });
  }

  /** Held recipients become due now. */
  release(id: string): Promise<QueueActionResult> {
    return this.json<QueueActionResult>('release', { params: { id } });
  }

  /** Remove the message from the queue (409 while a delivery is in progress). */
  async delete(id: string): Promise<void> {
    await this.call('delete', { params: { id } });
  }

  /** Counts, rates and a series over a window. */
  stats(window: '1h' | '24h' | '7d' | '30d' = '24h'): Promise<Stats> {
    return this.json<Stats>('stats', { query: { window } });
  }

  /**
   * Poll a message until every recipient is in `until` (a state) or `until(message)` is true; resolves with
   * the message. Rejects with MailroomError `timeout`, or `unexpected_state` when every recipient reached a
   * final state other than the one awaited (it cannot change any more).
   */
  async waitFor(id: string, until: RecipientStateName | ((m: Message) => boolean), opts: WaitOptions = {}) {
    const timeout = opts.timeout ?? 30_000;
    const interval = opts.interval ?? 500;
    const deadline = Date.now() + timeout;
    for (;;) {
      const m = await this.get(id);
      if (typeof until === 'function') {
        if (until(m)) return m;
      } else {
        const states = m.recipients.map((r) => r.state);
        if (states.length > 0 && states.every((s) => s === until)) return m;
        if (FINAL.has(until) && states.length > 0 && states.every((s) => FINAL.has(s))) {
          throw new MailroomError(0, 'unexpected_state', `Message ${id} ended as ${states.join(', ')}, not ${until}`, {
            recipients: m.recipients,
          });
        }
      }
      if (Date.now() + interval > deadline) {
        throw new MailroomError(0, 'timeout', `Message ${id} did not reach the awaited state in ${timeout} ms`, {
          recipients: m.recipients,
        });
      }
      await sleep(interval, opts.signal);
    }
  }

  private async json<T>(route: RouteName, init: CallInit): Promise<T> {
    const res = await this.call(route, init);
    return (await res.json()) as T;
  }

  private async call(route: RouteName, init: CallInit): Promise<Response> {
    const r = ROUTES[route];
    const url = new URL(this.baseUrl + fillPath(r.path, init.params));
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, ...init.headers };
    let body: string | Uint8Array | undefined = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: r.method, headers, body });
    } catch (err) {
      throw new MailroomError(0, 'network_error', `${r.method} ${url.pathname}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!res.ok) throw errorFromResponse(res.status, res.headers, await res.text());
    return res;
  }
}

function idempotency(opts: SendOptions): Record<string, string> {
  return opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {};
}
