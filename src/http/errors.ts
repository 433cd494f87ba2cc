import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Reply } from '../smtp/reply.js';

/** The one error body every endpoint uses: `{ error: { code, message, details } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

/** An error with its HTTP status; thrown by handlers, rendered by the error handler. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The JSON body of this error. */
  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** One field problem from a zod issue, with its path as `to[0]` / `attachments[1].content`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** zod issues as field paths and messages. */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((i) => ({ path: formatPath(prefix, i.path), message: i.message }));
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** 400 for a body, query or path that does not match its schema. */
export function invalid(error: z.ZodError, where: 'body' | 'query' | 'params'): ApiError {
  const issues = fieldIssues(error);
  const first = issues[0];
  const message = first ? `${first.path || where}: ${first.message}` : `invalid ${where}`;
  return new ApiError(400, 'invalid_request', message, { in: where, issues });
}

/** An SMTP reply as text, e.g. `550 5.7.1 Relay access denied`. */
export function replyText(r: Reply): string {
  return [String(r.code), r.enhanced, r.lines.join(' ')].filter((p) => p !== null && p !== '').join(' ');
}

/** Render any error as the standard JSON body with the exact status. */
export function handleError(err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ApiError) {
    void reply.code(err.status).headers(err.headers).send(err.body());
    return;
  }
  const code = (err as FastifyError).code;
  const status = (err as FastifyError).statusCode;
  let api: ApiError;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    api = new ApiError(413, 'payload_too_large', 'Request body is larger than the limit', null);
  } else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    api = new ApiError(415, 'unsupported_media_type', 'Use application/json or message/rfc822', null);
  } else if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    api = new ApiError(400, 'invalid_request', err.message, null);
  } else if (status !== undefined && status >= 400 && status < 500) {
    api = new ApiError(status, 'invalid_request', err.message, null);
  } else {
    req.log.error({ err }, 'request failed');
    api = new ApiError(500, 'internal_error', 'Internal error; nothing was accepted', null);
  }
  void reply.code(api.status).send(api.body());
}
