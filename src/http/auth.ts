import type { FastifyRequest } from 'fastify';
import type { ApiKey, Store } from '../store/index.js';
import { ApiError } from './errors.js';
import { hashApiKey, type Scope } from './keys.js';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { parseRate } from './rate-limit.js';

/** What authenticate() needs. */
export interface AuthDeps {
  store: Store;
  limiter: RateLimiter;
  defaultRate: { count: number; per: number };
  metrics: Metrics;
  now: () => number;
}

/**
 * The API key of a request (`Authorization: Bearer KEY`): 401 when missing, unknown or revoked,
 * 403 without the scope, 429 with Retry-After past the key's rate limit.
 */
export async function authenticate(req: FastifyRequest, deps: AuthDeps, scope: Scope): Promise<ApiKey> {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) {
    deps.metrics.authFailure('http', 'missing');
    throw new ApiError(401, 'unauthorized', 'Missing API key: send Authorization: Bearer KEY', null, {
      'www-authenticate': 'Bearer',
    });
  }
  const key = await deps.store.getApiKeyByHash(hashApiKey(m[1] as string));
  if (!key || key.revokedAt !== null) {
    deps.metrics.authFailure('http', key ? 'revoked' : 'unknown');
    throw new ApiError(401, 'unauthorized', key ? 'API key has been revoked' : 'Unknown API key', null, {
      'www-authenticate': 'Bearer error="invalid_token"',
    });
  }
  if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) {
    throw new ApiError(403, 'forbidden', `API key lacks the "${scope}" scope`, { required: scope, scopes: key.scopes });
  }
  const limit = (key.rateLimit ? parseRate(key.rateLimit) : null) ?? deps.defaultRate;
  const wait = deps.limiter.take(key.id, limit);
  if (wait > 0) {
    throw new ApiError(
      429,
      'rate_limited',
      `Rate limit of ${limit.count} requests per ${limit.per / 1000} s exceeded`,
      { retry_after: wait },
      { 'retry-after': String(wait) },
    );
  }
  await deps.store.touchApiKey(key.id, deps.now());
  return key;
}
