import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = fs.readFileSync(path.join(root, 'docs/api.md'), 'utf8');
/** The shell examples, in order; the one that sets the variables is replaced by the test's own values. */
const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)]
  .map((m) => m[1] as string)
  .filter((b) => !b.includes('export '));
const hasCurl = spawnSync('curl', ['--version']).status === 0;

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer({}, { http: true });
  await t.server.resources.store.addUser('alice@example.test', '!');
  key = await createKey(t, ['admin']);
});
afterAll(async () => {
  await t?.stop();
});

describe('docs/api.md', () => {
  it.skipIf(!hasCurl)('runs every curl example as written', async () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    for (const block of blocks) expect(block).toContain('curl');
    const script = `set -euo pipefail\n${blocks.map((b) => `${b}\necho`).join('\n')}`;
    // Asynchronously: the server answering curl runs in this process.
    const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', script],
        {
          env: { ...process.env, MAILROOM_URL: `http://127.0.0.1:${t.port('http')}`, MAILROOM_KEY: key },
          timeout: 60_000,
        },
        (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/"status":"queued"/);
    expect(run.stdout).toMatch(/mailroom_messages_received_total\{listener="http"\} [1-9]/);
  });

  it.runIf(!hasCurl)('needs curl (apt-get install curl) to run the examples', () => {
    console.warn('curl is not installed: the docs/api.md examples were not run');
  });
});
