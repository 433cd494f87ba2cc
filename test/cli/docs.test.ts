import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { z } from 'zod';
import { configSchema, loadConfig, parseConfig } from '../../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docs = fs.readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');

/** Every key path the schema accepts, list items written as `listeners[].port`. */
function schemaKeys(): string[] {
  const keys: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    for (const [k, v] of Object.entries(props ?? {})) {
      const p = prefix ? `${prefix}.${k}` : k;
      keys.push(p);
      walk(v, p);
    }
    for (const alt of ['anyOf', 'oneOf', 'allOf'] as const) {
      for (const a of (node[alt] as Record<string, unknown>[] | undefined) ?? []) walk(a, prefix);
    }
    if (node.items) walk(node.items as Record<string, unknown>, `${prefix}[]`);
  };
  walk(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>, '');
  return [...new Set(keys)];
}

describe('docs/configuration.md', () => {
  it('documents every configuration key', () => {
    const keys = schemaKeys();
    expect(keys.length).toBeGreaterThan(40);
    const missing = keys.filter((k) => !docs.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });

  it('has a full example that the loader accepts', () => {
    const block = /## Full example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block).toBeDefined();
    const config = parseConfig(YAML.parse(block!));
    expect(config.hostname).toBe('mx.example.com');
    expect(config.listeners).toHaveLength(8);
  });
});

describe('examples/production.yaml', () => {
  const file = path.join(root, 'examples/production.yaml');

  it('loads, with the standard ports on 0.0.0.0', () => {
    const { config } = loadConfig({ file, env: {} });
    expect(config.listeners.map((l) => [l.protocol, l.address, l.port])).toEqual([
      ['smtp', '0.0.0.0', 25],
      ['submission', '0.0.0.0', 587],
      ['submissions', '0.0.0.0', 465],
      ['imap', '0.0.0.0', 143],
      ['imaps', '0.0.0.0', 993],
      ['pop3', '0.0.0.0', 110],
      ['pop3s', '0.0.0.0', 995],
      ['http', '0.0.0.0', 443],
    ]);
    expect(config.domains.map((d) => d.name)).toContain('example.com');
  });

  it('still fits the schema with its tls block enabled', () => {
    const text = fs.readFileSync(file, 'utf8').replace(/^# (tls:| {2}\w+:)/gm, '$1');
    const raw = YAML.parse(text) as { tls?: unknown };
    expect(raw.tls).toBeDefined();
    expect(configSchema.safeParse(raw).success).toBe(true);
  });
});
