import path from 'node:path';
import { Command } from 'commander';
import { type Config, ConfigError } from '../config/index.js';
import { configErrorLines, configOption, loadCliConfig } from './config-option.js';
import { printJson, say } from './output.js';

/** `mailroom check-config`: validate the configuration and summarize what the server would use. */
export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('check the configuration file and environment overrides, and summarize them')
    .addOption(configOption())
    .option('--json', 'print { ok, source, config } or { ok, source, problems } as JSON')
    .addHelpText(
      'after',
      '\nExits 0 when the configuration is usable, 1 with one `key.path: problem` line per problem otherwise.',
    )
    .action((opts: { config?: string; json?: boolean }) => {
      if (!opts.json) {
        const { config, source } = loadCliConfig(opts);
        say(`configuration OK (${source ?? 'defaults'})`);
        for (const [key, value] of summary(config)) say(`  ${key.padEnd(10)} ${value}`);
        return;
      }
      try {
        const { config, source } = loadCliConfig(opts);
        printJson({ ok: true, source, config: redact(config) });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        printJson({ ok: false, source: err.source, problems: err.problems, hint: configErrorLines(err).at(-1) });
        process.exitCode = 1;
      }
    });
}

function summary(config: Config): [string, string][] {
  const store =
    config.store.driver === 'sqlite'
      ? `sqlite${config.store.path ? ` ${path.resolve(config.store.path)}` : ' (in the data dir)'}`
      : `postgres ${redactUrl(config.store.url)}`;
  return [
    ['hostname', config.hostname],
    ['mode', config.mode],
    ['data dir', path.resolve(config.dataDir)],
    ['store', store],
    ['listeners', config.listeners.map((l) => `${l.protocol} ${l.address}:${l.port}`).join(', ') || 'none'],
    ['domains', config.domains.map((d) => `${d.name} (${d.transport})`).join(', ') || 'none in the file'],
  ];
}

// The summary may be pasted into a bug report; a database password must not travel with it.
function redact(config: Config): Config {
  if (config.store.driver !== 'postgres') return config;
  return { ...config, store: { ...config.store, url: redactUrl(config.store.url) } };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
