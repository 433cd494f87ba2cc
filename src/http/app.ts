import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { TlsMaterial } from '../net/tls.js';
import type { ApiDeps } from './context.js';
import { ApiError, handleError } from './errors.js';
import { Idempotency } from './idempotency.js';
import { docsPage, openApiDocument } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import { Routes } from './route.js';
import { queueRoutes } from './routes/queue.js';
import { readRoutes } from './routes/read.js';
import { sendRoutes } from './routes/send.js';
import { statsRoutes } from './routes/stats.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { webhookRoutes } from './routes/webhooks.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Room for a message of limits.messageSize sent as base64 inside JSON, plus the rest of the request. */
export function defaultBodyLimit(messageSize: number): number {
  return Math.ceil(messageSize * 1.4) + 64 * 1024;
}

/** The fastify app of the HTTP API: routes, errors, OpenAPI, docs and metrics. */
export function buildApp(deps: ApiDeps, tls: TlsMaterial | null): { app: FastifyInstance; idempotency: Idempotency } {
  const now = deps.now ?? Date.now;
  const bodyLimit = deps.config.http.bodyLimit ?? defaultBodyLimit(deps.config.limits.messageSize);
  const app = Fastify({
    loggerInstance: deps.logger,
    // One log line per request would drown the per-message event log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    ...(tls ? { https: { ...tls.options } } : {}),
  }) as unknown as FastifyInstance;
  // Bodies are kept as bytes: message/rfc822 as is, JSON parsed by the route (which also hashes the exact
  // bytes for Idempotency-Key).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    ['application/json', 'message/rfc822'],
    { parseAs: 'buffer', bodyLimit },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => {
    const err = new ApiError(404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`, null);
    void reply.code(404).send(err.body());
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.request(req.method, req.routeOptions.url ?? 'unknown', reply.statusCode);
  });
  app.server.on('connection', () => deps.metrics.connection('http'));

  const idempotency = new Idempotency(deps.store, now);
  const routes = new Routes(app, {
    store: deps.store,
    limiter: new RateLimiter(now),
    defaultRate: deps.config.http.rateLimit,
    metrics: deps.metrics,
    now,
  });
  sendRoutes(routes, deps, idempotency);
  readRoutes(routes, deps);
  queueRoutes(routes, deps);
  statsRoutes(routes, deps);
  suppressionRoutes(routes, deps);
  webhookRoutes(routes, deps);

  let doc: Record<string, unknown> | null = null;
  const document = () => {
    doc ??= openApiDocument(routes.specs, version);
    return doc;
  };
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(document()));
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(docsPage(document())));
  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  return { app, idempotency };
}
