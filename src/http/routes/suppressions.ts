import type { z } from 'zod';
import type { Suppression } from '../../store/index.js';
import type { ApiDeps } from '../context.js';
import { ApiError } from '../errors.js';
import type { Routes } from '../route.js';
import { addressParams, suppressionInput, suppressionList, suppressionQuery, suppressionSchema } from '../schemas.js';

const view = (s: Suppression) => ({
  address: s.address,
  reason: s.reason,
  detail: s.detail,
  message_id: s.messageId,
  created_at: new Date(s.createdAt).toISOString(),
});

/** `GET/POST/DELETE /v1/suppressions`. */
export function suppressionRoutes(routes: Routes, deps: ApiDeps): void {
  const now = deps.now ?? Date.now;
  routes.add<unknown, z.infer<typeof suppressionQuery>, unknown>(
    {
      method: 'GET',
      url: '/v1/suppressions',
      summary: 'List suppressed addresses (in address order; cursor pagination)',
      tag: 'suppressions',
      scope: 'suppressions',
      query: suppressionQuery,
      responses: { 200: { description: 'A page of suppressions', schema: suppressionList } },
    },
    async ({ query }) => {
      const list = await deps.store.listSuppressions({
        limit: query.limit,
        ...(query.cursor ? { after: query.cursor } : {}),
      });
      const last = list.at(-1);
      return {
        status: 200,
        body: { data: list.map(view), next_cursor: list.length === query.limit && last ? last.address : null },
      };
    },
  );

  routes.add<unknown, unknown, z.infer<typeof addressParams>>(
    {
      method: 'GET',
      url: '/v1/suppressions/:address',
      summary: 'Whether an address is suppressed, and why',
      tag: 'suppressions',
      scope: 'suppressions',
      params: addressParams,
      responses: {
        200: { description: 'Suppressed', schema: suppressionSchema },
        404: { description: 'Not suppressed' },
      },
    },
    async ({ params }) => {
      const [found] = await deps.store.findSuppressions([params.address]);
      if (!found) throw notSuppressed(params.address);
      return { status: 200, body: view(found) };
    },
  );

  routes.add<z.infer<typeof suppressionInput>, unknown, unknown>(
    {
      method: 'POST',
      url: '/v1/suppressions',
      summary: 'Suppress an address: mail to it is refused per recipient',
      tag: 'suppressions',
      scope: 'suppressions',
      body: suppressionInput,
      responses: { 201: { description: 'Suppressed', schema: suppressionSchema } },
    },
    async ({ body }) => {
      const s = await deps.store.addSuppression({
        address: body.address,
        reason: body.reason,
        detail: body.detail ?? null,
        messageId: null,
        createdAt: now(),
      });
      return { status: 201, body: view(s) };
    },
  );

  routes.add<unknown, unknown, z.infer<typeof addressParams>>(
    {
      method: 'DELETE',
      url: '/v1/suppressions/:address',
      summary: 'Remove an address from the suppression list',
      tag: 'suppressions',
      scope: 'suppressions',
      params: addressParams,
      responses: { 204: { description: 'Removed' }, 404: { description: 'Not suppressed' } },
    },
    async ({ params }) => {
      if (!(await deps.store.removeSuppression(params.address))) throw notSuppressed(params.address);
      return { status: 204 };
    },
  );
}

function notSuppressed(address: string): ApiError {
  return new ApiError(404, 'not_found', `${address} is not suppressed`, { address });
}
