import type { FastifyInstance } from 'fastify';
import type { TlsMaterial } from '../net/tls.js';
import { buildApp } from './app.js';
import type { ApiDeps } from './context.js';

/** One `http` listener: the API app on an address and port, plain or HTTPS. */
export class HttpListener {
  private readonly app: FastifyInstance;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    private readonly opts: { address: string; port: number; tls: TlsMaterial | null },
    deps: ApiDeps,
  ) {
    const built = buildApp(deps, opts.tls);
    this.app = built.app;
    // Idempotency keys live 24 hours.
    this.pruneTimer = setInterval(() => {
      built.idempotency.prune().catch((err) => deps.logger.warn({ err }, 'pruning idempotency keys failed'));
    }, 3_600_000);
    this.pruneTimer.unref();
  }

  /** Start listening; resolves with the bound address. */
  async listen(): Promise<{ address: string; port: number }> {
    await this.app.listen({ host: this.opts.address, port: this.opts.port });
    const a = this.app.server.address();
    if (!a || typeof a === 'string') throw new Error('http listener has no address');
    return { address: a.address, port: a.port };
  }

  /** Stop taking requests; requests in flight finish. */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.app.close();
  }
}
