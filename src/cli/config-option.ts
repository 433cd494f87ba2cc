import { Option } from 'commander';
import { type ConfigError, type LoadedConfig, loadConfig } from '../config/index.js';

/** The shared `-c, --config FILE` option. */
export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    'configuration file (default: $MAILROOM_CONFIG, then ./mailroom.yaml, else built-in defaults)',
  );
}

/** Load the configuration the way every command does; ConfigError propagates to reportConfigError. */
export function loadCliConfig(opts: { config?: string }): LoadedConfig {
  return loadConfig(opts.config ? { file: opts.config } : {});
}

/** The lines printed for an unusable configuration: where, each problem, then what to do. */
export function configErrorLines(err: ConfigError, env: NodeJS.ProcessEnv = process.env): string[] {
  const where = err.source ? `invalid configuration in ${err.source}:` : 'invalid configuration:';
  // A problem may come from an override rather than the file; name them so nobody searches the file in vain.
  const overrides = Object.keys(env).filter(
    (k) => k.startsWith('MAILROOM_') && k !== 'MAILROOM_CONFIG' && !k.startsWith('MAILROOM_TEST'),
  );
  const note =
    err.source && overrides.length > 0 ? [`(the environment overrides the file with ${overrides.join(', ')})`] : [];
  const hint = err.source
    ? 'fix the file above (see docs/configuration.md) and run `mailroom check-config`'
    : // Without a file the only inputs are MAILROOM_* variables, so point there instead.
      'fix the MAILROOM_* environment variables above (see docs/configuration.md) and run `mailroom check-config`';
  return [where, ...err.problems, ...note, hint];
}

/** Print a ConfigError to stderr; returns the exit code. */
export function reportConfigError(err: ConfigError): number {
  process.stderr.write(`${configErrorLines(err).join('\n')}\n`);
  return 1;
}
