import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { type RecipientOutcome, submitMessage } from '../../intake/index.js';
import { apiKeySenders } from '../../policy/index.js';
import type { ApiKey } from '../../store/index.js';
import type { ApiDeps } from '../context.js';
import { ApiError, fieldIssues, replyText } from '../errors.js';
import type { Idempotency } from '../idempotency.js';
import { type BuiltMessage, buildMessage, envelopeOf } from '../mime.js';
import type { RouteResult, Routes } from '../route.js';
import { acceptedSchema, batchResultSchema, batchSchema, type SendInput, sendSchema } from '../schemas.js';

/** `POST /v1/messages` (JSON or message/rfc822) and `POST /v1/messages/batch`. */
export function sendRoutes(routes: Routes, deps: ApiDeps, idempotency: Idempotency): void {
  routes.add<SendInput, unknown, unknown>(
    {
      method: 'POST',
      url: '/v1/messages',
      summary: 'Send a message (JSON, or a raw RFC 5322 message as message/rfc822)',
      tag: 'messages',
      scope: 'send',
      body: sendSchema,
      rawMessage: true,
      responses: {
        202: { description: 'Accepted: durable in the queue', schema: acceptedSchema },
        409: { description: 'Idempotency-Key reused with a different body, or still running' },
        413: { description: 'Body or message larger than the limit' },
        422: { description: 'No recipient could be accepted, or the message was refused' },
      },
    },
    async ({ body, raw, isRawMessage, key, req }) =>
      idempotency.run(
        (key as ApiKey).id,
        req.headers['idempotency-key'],
        { method: 'POST', url: req.url, body: raw },
        () =>
          isRawMessage
            ? envelopeOf(raw ?? Buffer.alloc(0)).then((m) => sendBuilt(deps, key as ApiKey, req, m, null))
            : sendOne(deps, key as ApiKey, req, body),
      ),
  );

  routes.add<{ messages: unknown[] }, unknown, unknown>(
    {
      method: 'POST',
      url: '/v1/messages/batch',
      summary: 'Send up to http.batchSize messages; each item gets its own status',
      tag: 'messages',
      scope: 'send',
      body: batchSchema,
      responses: {
        200: { description: 'Per-item results (202 accepted, or the error of that item)', schema: batchResultSchema },
        409: { description: 'Idempotency-Key reused with a different body, or still running' },
        413: { description: 'Too many messages or body too large' },
      },
    },
    async ({ body, raw, key, req }) => {
      if (body.messages.length > deps.config.http.batchSize) {
        throw new ApiError(413, 'batch_too_large', `At most ${deps.config.http.batchSize} messages per batch`, {
          limit: deps.config.http.batchSize,
        });
      }
      return idempotency.run(
        (key as ApiKey).id,
        req.headers['idempotency-key'],
        { method: 'POST', url: req.url, body: raw },
        async () => {
          const results = await Promise.all(
            body.messages.map(async (item, index) => {
              const parsed = sendSchema.safeParse(item);
              if (!parsed.success) {
                const issues = fieldIssues(parsed.error, `messages[${index}]`);
                const err = new ApiError(400, 'invalid_request', `${issues[0]?.path}: ${issues[0]?.message}`, {
                  in: 'body',
                  issues,
                });
                return { index, status: 400, error: err.body().error };
              }
              try {
                const out = await sendOne(deps, key as ApiKey, req, parsed.data);
                return { index, ...(out.body as object), status: out.status };
              } catch (err) {
                if (!(err instanceof ApiError) || err.status >= 500) throw err;
                return { index, status: err.status, error: err.body().error };
              }
            }),
          );
          return { status: 200, body: { results } };
        },
      );
    },
  );
}

async function sendOne(deps: ApiDeps, key: ApiKey, req: FastifyRequest, input: SendInput): Promise<RouteResult> {
  const built = await buildMessage(input, deps.config.hostname);
  return sendBuilt(deps, key, req, built, input);
}

/** Hand a built message to the intake and turn its verdict into the HTTP answer. */
async function sendBuilt(
  deps: ApiDeps,
  key: ApiKey,
  req: FastifyRequest,
  built: BuiltMessage,
  input: SendInput | null,
): Promise<RouteResult> {
  const now = (deps.now ?? Date.now)();
  const sendAt = input?.send_at ? Date.parse(input.send_at) : undefined;
  const socket = req.socket as Partial<TLSSocket>;
  const tls = socket.encrypted
    ? { version: socket.getProtocol?.() ?? 'unknown', cipher: socket.getCipher?.()?.name ?? 'unknown' }
    : null;
  let result: Awaited<ReturnType<typeof submitMessage>>;
  try {
    result = await submitMessage(deps.intake, {
      user: `apikey:${key.name}`,
      senders: apiKeySenders(deps.store, {
        requireLocalSender: deps.config.submission.requireLocalSender,
        keyDomain: key.domain,
      }),
      client: { ip: req.ip, listener: 'http', tls, protocol: tls ? 'HTTPS' : 'HTTP' },
      mailFrom: built.mailFrom,
      recipients: built.recipients,
      message: built.message,
      ...(sendAt !== undefined && sendAt > now ? { notBefore: sendAt } : {}),
      beforeCommit: (id) =>
        deps.store.putMessageMeta({
          messageId: id,
          apiKey: key.id,
          subject: built.subject,
          tags: input?.tags ?? [],
          metadata: input?.metadata ?? {},
          createdAt: now,
        }),
    });
  } catch (err) {
    deps.logger.error({ err }, 'could not store message');
    throw new ApiError(503, 'unavailable', 'Local error in processing, try again later', null, { 'retry-after': '5' });
  }
  const recipients = result.recipients.map(recipientResult);
  if (!result.ok) {
    const reply = replyText(result.reply);
    if (result.stage === 'sender') {
      throw new ApiError(403, 'sender_not_allowed', `This key may not send as ${built.mailFrom}`, { reply });
    }
    if (result.stage === 'size' || result.reply.code === 552) {
      throw new ApiError(413, 'message_too_large', 'The message is larger than limits.messageSize', { reply });
    }
    if (result.stage === 'recipients') {
      throw new ApiError(422, 'no_valid_recipients', 'No recipient could be accepted', { recipients });
    }
    throw new ApiError(422, 'message_rejected', reply, { reply });
  }
  return { status: 202, body: { id: result.id, status: 'queued', recipients } };
}

function recipientResult(o: RecipientOutcome): Record<string, unknown> {
  return {
    address: o.address,
    status: o.accepted ? 'accepted' : 'rejected',
    ids: o.ids,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.reply ? { reply: replyText(o.reply) } : {}),
  };
}
