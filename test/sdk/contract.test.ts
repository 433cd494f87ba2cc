import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  type BatchResult,
  type Message,
  type MessagePage,
  type QueueActionResult,
  ROUTES,
  type SendMessage,
  type SendResult,
  type Stats,
  type Suppression,
  type SuppressionInput,
  type SuppressionPage,
} from '../../sdk/src/index.js';
import type { apiSchemas as s } from '../../src/http/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Compile-time: each SDK type and the server's zod type are assignable both ways, so `tsc` fails on drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(_: T) => _;
same<Same<SendResult, z.output<typeof s.acceptedSchema>>>(true);
same<Same<BatchResult, z.output<typeof s.batchResultSchema>>>(true);
same<Same<MessagePage, z.output<typeof s.listResultSchema>>>(true);
same<Same<Message, z.output<typeof s.messageSchema>>>(true);
same<Same<QueueActionResult, z.output<typeof s.queueActionResult>>>(true);
same<Same<Stats, z.output<typeof s.statsSchema>>>(true);
same<Same<Suppression, z.output<typeof s.suppressionSchema>>>(true);
same<Same<SuppressionPage, z.output<typeof s.suppressionList>>>(true);
same<Same<SuppressionInput, z.input<typeof s.suppressionInput>>>(true);
// A request the SDK can build is one the server's schema accepts in type (the refinements are checked at run time).
const _send: z.input<typeof s.sendSchema> = {} as SendMessage;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({}, { http: true });
});
afterAll(async () => {
  await t?.stop();
});

describe('the SDK and the OpenAPI document', () => {
  it('every SDK operation is a path and method of /openapi.json', async () => {
    const res = await fetch(`http://127.0.0.1:${t.port('http')}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const missing = Object.entries(ROUTES)
      .filter(([, r]) => doc.paths[r.path]?.[r.method.toLowerCase()] === undefined)
      .map(([name, r]) => `${name}: ${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
