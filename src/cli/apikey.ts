import { Command } from 'commander';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, printJson, printTable, say } from './output.js';
import { withStore } from './store.js';
import { parseDomain } from './validate.js';

interface Opts {
  config?: string;
  json?: boolean;
}

/** `mailroom apikey create|list|revoke`: keys for the HTTP API. */
export function apikeyCommand(): Command {
  const cmd = new Command('apikey').description('manage HTTP API keys');

  cmd
    .command('create')
    .description('create a key; it is printed once and only its hash is stored')
    .requiredOption('--name <name>', 'a name to recognise the key by, e.g. ci')
    .option('--scopes <list>', 'comma-separated: send, read, queue, suppressions, webhooks, admin', 'send')
    .option('--domain <domain>', 'the key may send only from this domain (and its subdomains)')
    .option('--rate <rate>', 'its own rate limit, e.g. 100/min (default: http.rateLimit)')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  mailroom apikey create --name ci --scopes send,read --domain example.com')
    .action(async (opts: Opts & { name: string; scopes: string; domain?: string; rate?: string }) => {
      // Loaded here so other commands do not load the HTTP server's modules.
      const { generateApiKey, parseRate, SCOPES } = await import('../http/index.js');
      const { config } = loadCliConfig(opts);
      const scopes = [...new Set(opts.scopes.split(',').map((s) => s.trim().toLowerCase()))].filter((s) => s !== '');
      const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (scopes.length === 0 || unknown.length > 0) {
        throw new CliError(`unknown scope ${unknown.join(', ') || '(none)'}; use some of ${SCOPES.join(', ')}`);
      }
      if (opts.rate !== undefined && !parseRate(opts.rate)) {
        throw new CliError(`"${opts.rate}" is not a rate; expected e.g. 100/min, 10/s, 5000/1h`);
      }
      const domain = opts.domain === undefined ? null : parseDomain(opts.domain).name;
      const name = opts.name.trim();
      if (!/^[\w.@-]{1,64}$/.test(name))
        throw new CliError('--name must be 1 to 64 letters, digits, ".", "_", "-", "@"');
      const key = generateApiKey();
      await withStore(config, async (store) => {
        if ((await store.listApiKeys()).some((k) => k.name === name && k.revokedAt === null)) {
          throw new CliError(`a key named ${name} already exists; revoke it first or pick another name`);
        }
        await store.addApiKey({
          id: key.id,
          name,
          hash: key.hash,
          scopes,
          domain,
          rateLimit: opts.rate ?? null,
          createdAt: Date.now(),
        });
      });
      if (opts.json) {
        printJson({ id: key.id, name, key: key.secret, scopes, domain, rate: opts.rate ?? null });
      } else {
        say(key.secret);
        process.stderr.write(`key ${name} (${key.id}) created; it is shown only this once\n`);
      }
    });

  cmd
    .command('list')
    .alias('ls')
    .description('list keys (never the secrets)')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const keys = await withStore(config, (store) => store.listApiKeys());
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      if (opts.json) {
        printJson(
          keys.map((k) => ({
            id: k.id,
            name: k.name,
            scopes: k.scopes,
            domain: k.domain,
            rate: k.rateLimit,
            createdAt: iso(k.createdAt),
            lastUsedAt: iso(k.lastUsedAt),
            revokedAt: iso(k.revokedAt),
          })),
        );
      } else if (keys.length === 0) {
        say('no API keys; create one with `mailroom apikey create --name NAME --scopes send`');
      } else {
        printTable(
          ['ID', 'NAME', 'SCOPES', 'DOMAIN', 'CREATED', 'LAST USED', 'STATUS'],
          keys.map((k) => [
            k.id,
            k.name,
            k.scopes.join(','),
            k.domain ?? '-',
            formatDate(k.createdAt),
            k.lastUsedAt === null ? '-' : formatDate(k.lastUsedAt),
            k.revokedAt === null ? 'active' : 'revoked',
          ]),
        );
      }
    });

  cmd
    .command('revoke')
    .description('revoke a key by id or name; requests with it get 401 at once')
    .argument('<key>', 'id or name')
    .addOption(configOption())
    .action(async (which: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const done = await withStore(config, (store) => store.revokeApiKey(which, Date.now()));
      if (!done) throw new CliError(`no active key ${which}; see \`mailroom apikey list\``);
      say(`key ${which} revoked`);
    });

  return cmd;
}
