import type { z } from 'zod';
import type { RecipientState } from '../../store/index.js';
import type { ApiDeps } from '../context.js';
import { ApiError } from '../errors.js';
import type { Routes } from '../route.js';
import { idParams, queueActionResult } from '../schemas.js';
import { notFound } from './read.js';

interface Action {
  name: 'retry' | 'hold' | 'release';
  summary: string;
  from: RecipientState[];
  to: 'held' | 'queued';
  event: 'queued' | 'held' | 'released';
}

// The same moves as `mailroom queue retry|hold|release`.
const ACTIONS: Action[] = [
  { name: 'retry', summary: 'Make deferred recipients due now', from: ['deferred'], to: 'queued', event: 'queued' },
  {
    name: 'hold',
    summary: 'Hold queued and deferred recipients until released',
    from: ['queued', 'deferred'],
    to: 'held',
    event: 'held',
  },
  {
    name: 'release',
    summary: 'Release held recipients; they are due now',
    from: ['held'],
    to: 'queued',
    event: 'released',
  },
];

/** Queue operations on one message: retry, hold, release, delete. */
export function queueRoutes(routes: Routes, deps: ApiDeps): void {
  const now = deps.now ?? Date.now;
  for (const action of ACTIONS) {
    routes.add<unknown, unknown, z.infer<typeof idParams>>(
      {
        method: 'POST',
        url: `/v1/messages/:id/${action.name}`,
        summary: action.summary,
        tag: 'queue',
        scope: 'queue',
        params: idParams,
        responses: {
          200: {
            description: 'The recipients that moved (none when nothing was in a matching state)',
            schema: queueActionResult,
          },
          404: { description: 'The message is not in the queue' },
        },
      },
      async ({ params }) => {
        const recipients = await deps.store.getRecipients(params.id);
        if (recipients.length === 0) throw notFound(params.id, 'it is not in the queue');
        const candidates = recipients.filter((r) => action.from.includes(r.state)).map((r) => r.id);
        const changed = await deps.store.changeRecipientStates(candidates, action.from, action.to, now());
        for (const r of changed) {
          deps.events.emit(action.event, r.messageId, { by: 'api', action: action.name }, r.address);
        }
        if (action.to === 'queued' && changed.length > 0) deps.wakeQueue();
        return {
          status: 200,
          body: {
            id: params.id,
            action: action.name,
            changed: changed.map((r) => ({ address: r.address, id: r.id, state: r.state })),
          },
        };
      },
    );
  }

  routes.add<unknown, unknown, z.infer<typeof idParams>>(
    {
      method: 'DELETE',
      url: '/v1/messages/:id',
      summary: 'Delete a message from the queue (the sender is not notified)',
      tag: 'queue',
      scope: 'queue',
      params: idParams,
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'The message is not in the queue' },
        409: { description: 'A delivery of the message is in progress; try again' },
      },
    },
    async ({ params }) => {
      const message = await deps.store.getMessage(params.id);
      if (!message) throw notFound(params.id, 'it is not in the queue');
      const [purged] = await deps.store.purgeMessages([params.id]);
      if (!purged) throw new ApiError(409, 'delivery_in_progress', 'A delivery of this message is in progress', null);
      for (const r of purged.recipients) {
        deps.events.emit('deleted', purged.id, { by: 'api', action: 'delete', state: r.state }, r.address);
      }
      try {
        if (!(await deps.store.blobInUse(purged.blobRef))) await deps.blobs.remove(purged.blobRef);
      } catch (err) {
        deps.logger.warn({ err, queueId: purged.id }, 'could not remove the body of a deleted message');
      }
      return { status: 204 };
    },
  );
}
