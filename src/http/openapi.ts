import { z } from 'zod';
import type { RouteSpec } from './route.js';
import { errorSchema } from './schemas.js';

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: the body, query or path does not match the schema (details.issues has field paths)',
  401: 'Missing, unknown or revoked API key',
  403: 'The key lacks the scope, or may not send as this sender',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body or message too large',
  422: 'Well-formed but cannot be accepted',
  429: 'Rate limit exceeded; see Retry-After',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete out.$schema;
  return out;
}

/** The OpenAPI 3.1 document of the registered routes, schemas generated from their zod definitions. */
export function openApiDocument(specs: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const s of specs) {
    const path = s.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', s.params],
      ['query', s.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input');
      const props = (js.properties ?? {}) as Record<string, unknown>;
      const required = new Set((js.required as string[] | undefined) ?? []);
      for (const [name, p] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: p });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(s.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.schema, 'output') } } }
          : r.contentType
            ? { content: { [r.contentType]: { schema: { type: 'string' } } } }
            : {}),
      };
    }
    const errors = new Set<number>(
      Object.keys(s.responses)
        .map(Number)
        .filter((n) => n >= 400),
    );
    if (s.body || s.query || s.params) errors.add(400);
    if (s.scope) for (const n of [401, 403, 429]) errors.add(n);
    for (const n of [...errors].sort()) {
      responses[String(n)] = {
        description: s.responses[n]?.description ?? ERROR_TEXT[n] ?? 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const op: Record<string, unknown> = {
      summary: s.summary,
      tags: [s.tag],
      operationId: `${s.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[/_-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(s.scope ? { security: [{ apiKey: [] }], 'x-scope': s.scope } : {}),
      responses,
    };
    if (s.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: jsonSchema(s.body, 'input') } };
      if (s.rawMessage) content['message/rfc822'] = { schema: { type: 'string', description: 'RFC 5322 message' } };
      op.requestBody = { required: true, content };
    }
    paths[path] = { ...(paths[path] ?? {}), [s.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mailroom HTTP API',
      version,
      description: 'Send mail, follow each message, manage the queue and suppressions. See docs/api.md.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'mailroom apikey create' } },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    paths,
  };
}

/** A small readable page listing every endpoint from the document (no script, no external assets). */
export function docsPage(doc: Record<string, unknown>): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const codes = Object.keys(op.responses as object).join(' ');
      const scope = (op['x-scope'] as string | undefined) ?? 'none';
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(path)}</code></td><td>${esc(
          String(op.summary),
        )}</td><td>${esc(scope)}</td><td>${codes}</td></tr>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mailroom API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;text-align:left;border-bottom:1px solid #ddd}code{font-size:.95em}</style>
</head><body><h1>mailroom HTTP API</h1>
<p>Authenticate with <code>Authorization: Bearer KEY</code> (<code>mailroom apikey create</code>). Errors are
<code>{ "error": { "code", "message", "details" } }</code>. The machine-readable document is
<a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>scope</th><th>statuses</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></body></html>`;
}
