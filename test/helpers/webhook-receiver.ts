import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface ReceivedHook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A local HTTP receiver on 127.0.0.1 for webhook tests: records every request and answers with
 * `status` (changeable while running, per path).
 */
export async function startReceiver(status = 200) {
  const received: ReceivedHook[] = [];
  const state = { status, byPath: new Map<string, number>() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      received.push({ path: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(state.byPath.get(req.url ?? '/') ?? state.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    /** Requests to one path. */
    at: (path: string) => received.filter((r) => r.path === path),
    /** Answer requests (to `path`, or every path without its own answer) with status `s`. */
    respond: (s: number, path?: string) => {
      if (path) state.byPath.set(path, s);
      else state.status = s;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
