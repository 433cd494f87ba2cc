import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ApiKey } from '../store/index.js';
import { type AuthDeps, authenticate } from './auth.js';
import { ApiError, invalid } from './errors.js';
import type { Scope } from './keys.js';

/** One endpoint as the OpenAPI document and the router both see it. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** fastify syntax: `/v1/messages/:id`. */
  url: string;
  summary: string;
  tag: string;
  /** null: no key needed. */
  scope: Scope | null;
  body?: z.ZodType;
  /** Also accept a raw RFC 5322 message (`Content-Type: message/rfc822`) instead of JSON. */
  rawMessage?: boolean;
  query?: z.ZodType;
  params?: z.ZodType;
  /** Success and specific error responses; 400/401/403/429 are added from the spec. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

/** What a handler gets: validated input, the caller's key, the raw body bytes. */
export interface RouteInput<B = unknown, Q = unknown, P = unknown> {
  body: B;
  query: Q;
  params: P;
  key: ApiKey | null;
  /** The request body as received (JSON or message/rfc822), or null. */
  raw: Buffer | null;
  /** True when the body is a raw message rather than JSON. */
  isRawMessage: boolean;
  req: FastifyRequest;
}

/** What a handler returns: status, body, headers; `contentType` for non-JSON bodies. */
export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export type Handler<B = unknown, Q = unknown, P = unknown> = (input: RouteInput<B, Q, P>) => Promise<RouteResult>;

/** Registers routes on fastify and remembers their specs for the OpenAPI document. */
export class Routes {
  readonly specs: RouteSpec[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly auth: AuthDeps,
  ) {}

  /** Add one endpoint; input is validated with the spec's zod schemas before `handler` runs. */
  add<B, Q, P>(spec: RouteSpec, handler: Handler<B, Q, P>): void {
    this.specs.push(spec);
    this.app.route({
      method: spec.method,
      url: spec.url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const key = spec.scope ? await authenticate(req, this.auth, spec.scope) : null;
        const raw = Buffer.isBuffer(req.body) ? req.body : null;
        const isRawMessage = spec.rawMessage === true && /^message\/rfc822\b/i.test(req.headers['content-type'] ?? '');
        let body: unknown;
        if (spec.body && !isRawMessage) {
          if (!raw || !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
            throw new ApiError(400, 'invalid_request', 'Send a JSON body with Content-Type: application/json', null);
          }
          body = parseJson(raw);
          const parsed = spec.body.safeParse(body);
          if (!parsed.success) throw invalid(parsed.error, 'body');
          body = parsed.data;
        }
        const query = validate(spec.query, req.query, 'query');
        const params = validate(spec.params, req.params, 'params');
        const out = await handler({
          body: body as B,
          query: query as Q,
          params: params as P,
          key,
          raw,
          isRawMessage,
          req,
        });
        reply.code(out.status);
        if (out.headers) reply.headers(out.headers);
        if (out.contentType) reply.type(out.contentType);
        return reply.send(out.body === undefined ? undefined : out.body);
      },
    });
  }
}

function validate(schema: z.ZodType | undefined, value: unknown, where: 'query' | 'params'): unknown {
  if (!schema) return value;
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw invalid(parsed.error, where);
  return parsed.data;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'invalid_json', `Body is not valid JSON: ${(err as Error).message}`, null);
  }
}
