import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.js';

/** A configuration that cannot be used, with one line per problem. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly source: string | null,
  ) {
    super(`invalid configuration${source ? ` in ${source}` : ''}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Explicit `--config FILE`. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null when only defaults and environment were used. */
  source: string | null;
}

/** Find the config file: --config, then $MAILROOM_CONFIG, then ./mailroom.yaml; none is fine. */
export function findConfigFile(opts: LoadOptions): string | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file) return path.resolve(cwd, opts.file);
  if (env.MAILROOM_CONFIG) return path.resolve(cwd, env.MAILROOM_CONFIG);
  const local = path.join(cwd, 'mailroom.yaml');
  return fs.existsSync(local) ? local : null;
}

/** Load, merge environment overrides and validate. Throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const source = findConfigFile(opts);
  let raw: unknown = {};
  if (source) {
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (err) {
      throw new ConfigError([`${source}: cannot read the file (${(err as Error).message})`], source);
    }
    const doc = YAML.parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => `yaml: ${e.message.split('\n')[0]}`),
        source,
      );
    }
    raw = doc.toJS() ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(
        ['(top level): is not a mapping, expected keys such as hostname, listeners, domains'],
        source,
      );
    }
  }
  const merged = applyEnvOverrides(raw as Record<string, unknown>, env);
  return { config: parseConfig(merged, source), source };
}

/** Validate an already-parsed object. */
export function parseConfig(raw: unknown, source: string | null = null): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), source);
  const config = result.data;
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return config;
}

/**
 * `MAILROOM_LIMITS__MESSAGE_SIZE=1MB` sets `limits.messageSize`: segments split on `__`,
 * SNAKE_CASE turned into camelCase, values read as YAML scalars (`[a, b]` gives a list).
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MAILROOM_') || name === 'MAILROOM_CONFIG' || value === undefined) continue;
    if (name.startsWith('MAILROOM_TEST')) continue;
    const keys = name
      .slice('MAILROOM_'.length)
      .split('__')
      .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = parseScalar(value);
  }
  return out;
}

function parseScalar(value: string): unknown {
  try {
    return YAML.parse(value);
  } catch {
    return value;
  }
}

/** Turn zod issues into `key.path: what is wrong, what is expected`. */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    return `${where}: ${describeIssue(issue)}`;
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `is missing or has the wrong type, expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}, expected only the keys listed in docs/configuration.md`;
    case 'invalid_value':
      return `is not allowed, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `is too small, expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return `is too big, expected at most ${String(issue.maximum)}`;
    case 'invalid_union':
      return 'does not match any allowed form, see docs/configuration.md';
    default:
      return issue.message;
  }
}

function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  config.listeners.forEach((l, i) => {
    const key = `${l.address}:${l.port}`;
    const first = seen.get(key);
    if (first !== undefined && l.port !== 0) {
      problems.push(`listeners.${i}.port: ${key} is already used by listeners.${first}, expected a free address:port`);
    }
    seen.set(key, i);
  });
  const names = new Set<string>();
  config.domains.forEach((d, i) => {
    if (names.has(d.name)) problems.push(`domains.${i}.name: "${d.name}" is listed twice, expected each domain once`);
    names.add(d.name);
  });
  if (config.tls && !fs.existsSync(config.tls.cert)) {
    problems.push(`tls.cert: file ${config.tls.cert} does not exist, expected a PEM certificate chain`);
  }
  if (config.tls && !fs.existsSync(config.tls.key)) {
    problems.push(`tls.key: file ${config.tls.key} does not exist, expected a PEM private key`);
  }
  return problems;
}
