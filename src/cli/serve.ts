import path from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError } from './output.js';

const HELP = `
Configuration is read from, in order (the first that exists wins):
  1. --config FILE
  2. $MAILROOM_CONFIG
  3. ./mailroom.yaml in the current directory
  otherwise built-in defaults are used; no file is needed to start.

Environment overrides (applied on top of the file):
  MAILROOM_<KEY>[__<KEY>...]=VALUE sets one key. Segments are split on "__" and
  SNAKE_CASE becomes camelCase; the value is read as YAML. For example:
    MAILROOM_HOSTNAME=mx.example.com
    MAILROOM_LIMITS__MESSAGE_SIZE=1MB          -> limits.messageSize
    MAILROOM_QUEUE__RETRY='[1m, 5m, 1h]'       -> queue.retry
    MAILROOM_LOG__LEVEL=debug                  -> log.level
  Check the result with \`mailroom check-config\`.

Default listeners (all on 127.0.0.1):
  smtp 2525 (MTA)          submission 2587 (STARTTLS, AUTH)   submissions 2465 (TLS)
  imap 2143   imaps 2993   pop3 2110   pop3s 2995   http 8025 (API, dashboard, metrics)
  See examples/production.yaml for the standard ports 25/587/465/143/993/110/995/443.

Data directory (dataDir, default ./data, relative to the current directory):
  mailroom.db (SQLite store), blobs/ (message bodies), tls/ (self-signed certificate
  made on first start when tls.cert/tls.key are not set).

Signals:
  SIGTERM, SIGINT  graceful stop: listeners close and new connections get
                   "421 4.3.2 Service not available"; transactions in flight finish
                   within shutdown.drainTimeout (default 30s), then the process exits 0.
                   A second signal stops at once (exit 1).

Logs are JSON lines on stdout (level from log.level). A bad configuration is
reported on stderr and the server does not start (exit 1).
`;

/** `mailroom serve`: run the server until SIGTERM or SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run the mail server (SMTP, submission, IMAP, POP3, HTTP) in the foreground')
    .addOption(configOption())
    .addHelpText('after', HELP)
    .action(async (opts: { config?: string }) => {
      const { config, source } = loadCliConfig(opts);
      const logger = pino({ level: config.log.level, timestamp: pino.stdTimeFunctions.isoTime });
      logger.info(
        { source: source ?? 'defaults', hostname: config.hostname, dataDir: path.resolve(config.dataDir) },
        'starting mailroom',
      );
      // Imported here so the other commands start without loading the whole server.
      const { startServer } = await import('../server/index.js');
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(config, { logger });
      } catch (err) {
        logger.fatal({ err }, 'cannot start');
        logger.flush();
        throw new CliError(`cannot start: ${(err as Error).message}`);
      }
      // startServer logs each listener as it binds; one line here says the whole server is up.
      const bound = server.listeners.map((l) => `${l.protocol} ${l.address}:${l.port}`);
      logger.info({ listeners: server.listeners }, `mailroom ready: ${bound.join(', ') || 'no listeners'}`);

      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal, stopping now');
          logger.flush();
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal, drainTimeout: config.shutdown.drainTimeout }, 'stopping: draining connections');
        // Backstop in case stop() itself hangs; the server is meant to finish within drainTimeout.
        setTimeout(() => {
          logger.error('shutdown took too long, exiting');
          logger.flush();
          process.exit(1);
        }, config.shutdown.drainTimeout + 10_000).unref();
        server.stop(signal).then(
          () => {
            logger.flush();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'error while stopping');
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
