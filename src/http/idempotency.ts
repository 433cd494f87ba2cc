import crypto from 'node:crypto';
import type { Store } from '../store/index.js';
import { ApiError } from './errors.js';
import type { RouteResult } from './route.js';

const DAY = 86_400_000;

/**
 * `Idempotency-Key`: the same key with the same body within 24 hours gets the first response
 * again (with `Idempotent-Replayed: true`); with a different body, 409. A key whose first
 * request is still running also gets 409, so two racing retries never send twice.
 */
export class Idempotency {
  private readonly inflight = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** Run `fn` once per (API key, Idempotency-Key); without a key header it just runs. */
  async run(
    apiKey: string,
    header: string | string[] | undefined,
    request: { method: string; url: string; body: Buffer | null },
    fn: () => Promise<RouteResult>,
  ): Promise<RouteResult> {
    if (header === undefined) return fn();
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError(400, 'invalid_request', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
        in: 'headers',
        issues: [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }],
      });
    }
    const hash = crypto
      .createHash('sha256')
      .update(`${request.method} ${request.url}\n`)
      .update(request.body ?? Buffer.alloc(0))
      .digest('hex');
    const now = this.now();
    const seen = await this.store.getIdempotency(apiKey, key, now - DAY);
    if (seen) return replay(seen.bodyHash, hash, seen.status, seen.response);
    const slot = `${apiKey}\n${key}`;
    if (this.inflight.has(slot)) {
      throw new ApiError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still running', null);
    }
    this.inflight.add(slot);
    try {
      const out = await fn();
      // Only answers that will not change on retry are remembered (not 5xx or 429).
      if (out.status < 500 && out.status !== 429) {
        const record = { apiKey, key, bodyHash: hash, status: out.status, response: JSON.stringify(out.body ?? null) };
        await this.store.putIdempotency({ ...record, createdAt: now });
      }
      return out;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500 && err.status !== 429 && err.status !== 401) {
        const response = JSON.stringify(err.body());
        await this.store.putIdempotency({ apiKey, key, bodyHash: hash, status: err.status, response, createdAt: now });
      }
      throw err;
    } finally {
      this.inflight.delete(slot);
    }
  }

  /** Forget keys older than 24 hours. */
  prune(): Promise<number> {
    return this.store.pruneIdempotency(this.now() - DAY);
  }
}

function replay(firstHash: string, hash: string, status: number, response: string): RouteResult {
  if (firstHash !== hash) {
    throw new ApiError(
      409,
      'idempotency_conflict',
      'This Idempotency-Key was used with a different request body in the last 24 hours',
      null,
    );
  }
  return { status, body: JSON.parse(response), headers: { 'idempotent-replayed': 'true' } };
}
