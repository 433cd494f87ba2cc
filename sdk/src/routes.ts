/**
 * Every API operation the SDK calls, as in the OpenAPI document (`{param}` path templates).
 * test/sdk checks each against the server's /openapi.json so the two cannot drift.
 */
export const ROUTES = {
  send: { method: 'POST', path: '/v1/messages' },
  sendBatch: { method: 'POST', path: '/v1/messages/batch' },
  list: { method: 'GET', path: '/v1/messages' },
  get: { method: 'GET', path: '/v1/messages/{id}' },
  raw: { method: 'GET', path: '/v1/messages/{id}/raw' },
  retry: { method: 'POST', path: '/v1/messages/{id}/retry' },
  hold: { method: 'POST', path: '/v1/messages/{id}/hold' },
  release: { method: 'POST', path: '/v1/messages/{id}/release' },
  delete: { method: 'DELETE', path: '/v1/messages/{id}' },
  stats: { method: 'GET', path: '/v1/stats' },
  listSuppressions: { method: 'GET', path: '/v1/suppressions' },
  getSuppression: { method: 'GET', path: '/v1/suppressions/{address}' },
  addSuppression: { method: 'POST', path: '/v1/suppressions' },
  removeSuppression: { method: 'DELETE', path: '/v1/suppressions/{address}' },
} as const;

/** The name of an SDK operation. */
export type RouteName = keyof typeof ROUTES;

/** Fill a path template; parameters are percent-encoded. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(v);
  });
}
