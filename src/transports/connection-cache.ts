import type { SmtpClient } from '../smtp/client/index.js';

/** How long idle connections live and how much one connection may carry. */
export interface ConnectionCacheOptions {
  /** Milliseconds an idle connection is kept; 0 turns the cache off. */
  idle: number;
  /** Messages one connection may carry before it is closed. */
  maxMessages: number;
  /** Idle connections kept at most, over all servers. */
  maxIdle?: number;
}

interface Parked {
  client: SmtpClient;
  uses: number;
  timer: NodeJS.Timeout;
}

/** A connection handed out by the cache, with how many messages it has carried. */
export interface Reusable {
  client: SmtpClient;
  uses: number;
}

/**
 * Idle SMTP sessions kept open after a delivery, so the next message to the same server skips
 * the TCP, TLS and EHLO round trips (as Postfix's connection cache does). Keys name everything
 * that makes two sessions interchangeable: address, port, TLS demands and AUTH identity.
 */
export class ConnectionCache {
  private readonly idle = new Map<string, Parked[]>();
  private count = 0;
  private closed = false;

  constructor(private readonly opts: ConnectionCacheOptions) {}

  /** An idle, still usable session for `key`, or null. */
  take(key: string): Reusable | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      // Most recently parked first: the one least likely to have been timed out by the server.
      const p = list.pop() as Parked;
      this.count--;
      clearTimeout(p.timer);
      if (list.length === 0) this.idle.delete(key);
      if (p.client.usable) return { client: p.client, uses: p.uses };
      p.client.close();
    }
    return null;
  }

  /** Return a session after use: parked when it may carry more, otherwise closed with QUIT. */
  async give(key: string, client: SmtpClient, uses: number): Promise<void> {
    const max = this.opts.maxIdle ?? 200;
    if (this.closed || this.opts.idle <= 0 || uses >= this.opts.maxMessages || !client.usable || this.count >= max) {
      await client.quit().catch(() => client.close());
      return;
    }
    const parked: Parked = {
      client,
      uses,
      timer: setTimeout(() => {
        const list = this.idle.get(key);
        const i = list?.indexOf(parked) ?? -1;
        if (!list || i < 0) return;
        list.splice(i, 1);
        this.count--;
        if (list.length === 0) this.idle.delete(key);
        void client.quit().catch(() => client.close());
      }, this.opts.idle),
    };
    parked.timer.unref();
    const list = this.idle.get(key) ?? [];
    list.push(parked);
    this.idle.set(key, list);
    this.count++;
  }

  /** Idle sessions right now (for tests and metrics). */
  get size(): number {
    return this.count;
  }

  /** QUIT every idle session; later returns are closed at once. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    this.count = 0;
    await Promise.all(
      all.map((p) => {
        clearTimeout(p.timer);
        return p.client.quit().catch(() => p.client.close());
      }),
    );
  }
}
