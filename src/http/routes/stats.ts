import type { z } from 'zod';
import type { ApiDeps } from '../context.js';
import type { Routes } from '../route.js';
import { statsQuery, statsSchema } from '../schemas.js';

const TYPES = ['received', 'delivered', 'deferred', 'bounced', 'expired', 'opened', 'clicked', 'complained'] as const;
type Counts = Record<(typeof TYPES)[number], number>;

const WINDOWS: Record<string, { span: number; bucket: number }> = {
  '1h': { span: 3_600_000, bucket: 300_000 },
  '24h': { span: 86_400_000, bucket: 3_600_000 },
  '7d': { span: 7 * 86_400_000, bucket: 86_400_000 },
  '30d': { span: 30 * 86_400_000, bucket: 86_400_000 },
};

const zero = (): Counts => Object.fromEntries(TYPES.map((t) => [t, 0])) as Counts;

/** `GET /v1/stats`: event counts and rates over a time window, in buckets for charts. */
export function statsRoutes(routes: Routes, deps: ApiDeps): void {
  routes.add<unknown, z.infer<typeof statsQuery>, unknown>(
    {
      method: 'GET',
      url: '/v1/stats',
      summary: 'Counts and rates over a time window (delivered, deferred, bounced, opened, clicked, complained)',
      tag: 'stats',
      scope: 'read',
      query: statsQuery,
      responses: { 200: { description: 'Totals, rates and a series of buckets', schema: statsSchema } },
    },
    async ({ query }) => {
      const w = WINDOWS[query.window] as { span: number; bucket: number };
      const now = (deps.now ?? Date.now)();
      // Buckets are aligned to their size, so charts line up between requests.
      const to = Math.ceil((now + 1) / w.bucket) * w.bucket;
      const from = to - Math.ceil(w.span / w.bucket) * w.bucket;
      const rows = await deps.store.countEvents([...TYPES], from, to, w.bucket);
      const totals = zero();
      const series = new Map<number, Counts>();
      for (let t = from; t < to; t += w.bucket) series.set(t, zero());
      for (const r of rows) {
        const type = r.type as keyof Counts;
        totals[type] += r.count;
        const b = series.get(r.bucket);
        if (b) b[type] += r.count;
      }
      const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000);
      const finished = totals.delivered + totals.bounced + totals.expired;
      return {
        status: 200,
        body: {
          window: query.window,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          bucket_seconds: w.bucket / 1000,
          totals,
          rates: {
            delivered: ratio(totals.delivered, finished),
            bounced: ratio(totals.bounced, finished),
            opened: ratio(totals.opened, totals.delivered),
            clicked: ratio(totals.clicked, totals.delivered),
            complained: ratio(totals.complained, totals.delivered),
          },
          series: [...series.entries()].map(([start, c]) => ({ start: new Date(start).toISOString(), ...c })),
        },
      };
    },
  );
}
