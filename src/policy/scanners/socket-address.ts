import net from 'node:net';

/** Where a scanner listens: a TCP host and port, or a Unix socket path. */
export type SocketAddress = { host: string; port: number } | { path: string };

/**
 * Parse a scanner address: `host:port`, `[v6]:port`, `inet:port@host`, `inet6:port@host`,
 * `unix:/path`, `local:/path` or a plain `/path`. Returns null when it is none of these.
 */
export function parseSocketAddress(text: string): SocketAddress | null {
  const s = text.trim();
  if (s.startsWith('/')) return { path: s };
  const unix = /^(?:unix|local):(.+)$/i.exec(s);
  if (unix) return { path: unix[1] as string };
  const inet = /^inet6?:(\d+)@(.+)$/i.exec(s);
  if (inet) return tcp(inet[2] as string, inet[1] as string);
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) return tcp(v6[1] as string, v6[2] as string);
  const hp = /^([^:\s]+):(\d+)$/.exec(s);
  if (hp) return tcp(hp[1] as string, hp[2] as string);
  return null;
}

function tcp(host: string, port: string): SocketAddress | null {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535 || host === '') return null;
  return { host, port: n };
}

/** Open a connection to a scanner; rejects on error or when `signal` aborts first. */
export function connectTo(address: SocketAddress, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = 'path' in address ? net.connect(address.path) : net.connect(address.port, address.host);
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      // Later aborts (the scan's time-out) tear the conversation down wherever it is.
      const onLateAbort = () => socket.destroy(toError(signal.reason));
      signal.addEventListener('abort', onLateAbort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', onLateAbort));
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Reads a socket as a sequence of byte chunks on demand, so a protocol can be written as a plain loop. */
export class SocketReader {
  private buffered: Buffer[] = [];
  private waiting: (() => void) | null = null;
  private ended = false;
  private error: Error | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered.push(chunk);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
  }

  /** The next chunk, or null at the end of the stream; throws the socket's error. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.buffered.shift();
      if (chunk) return chunk;
      if (this.error) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }
}

/** Write and wait until the bytes are handed to the kernel (or the socket fails). */
export function writeAll(socket: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
