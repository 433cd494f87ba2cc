import { generateApiKey } from '../../src/http/index.js';
import type { TestServer } from './server.js';

/** Create an API key directly in the server's store; returns the secret to send as Bearer. */
export async function createKey(
  t: TestServer,
  scopes: string[],
  opts: { name?: string; domain?: string; rate?: string } = {},
): Promise<string> {
  const k = generateApiKey();
  await t.server.resources.store.addApiKey({
    id: k.id,
    name: opts.name ?? `test-${k.id}`,
    hash: k.hash,
    scopes,
    domain: opts.domain ?? null,
    rateLimit: opts.rate ?? null,
    createdAt: Date.now(),
  });
  return k.secret;
}

/** A response: `json` is the parsed body (tests index into it freely), or null when it is not JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes and check them with expect.
  json: any;
  text: string;
}

/** A small client for the API of a test server, over a real socket with Node's fetch. */
export function apiClient(t: TestServer, key: string | null) {
  const base = `http://127.0.0.1:${t.port('http')}`;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const h: Record<string, string> = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body)) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers: h, body: payload });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return {
    base,
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    del: (path: string) => call('DELETE', path),
    call,
  };
}
