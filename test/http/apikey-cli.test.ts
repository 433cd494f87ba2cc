import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lines, runCli, workdir } from '../cli/helpers.js';
import { apiClient } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const cwd = workdir('dataDir: ./data\ndomains: [{ name: example.test }]\n');
let key: { id: string; key: string; scopes: string[]; domain: string };
afterAll(async () => {
  await t?.stop();
});

describe('mailroom apikey', () => {
  it('creates a key shown once and lists it without the secret', async () => {
    const created = await runCli(
      ['apikey', 'create', '--name', 'ci', '--scopes', 'send,read', '--domain', 'Example.TEST', '--json'],
      { cwd },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    key = JSON.parse(created.stdout) as typeof key;
    expect(key.key).toMatch(/^mr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.scopes).toEqual(['send', 'read']);
    expect(key.domain).toBe('example.test');

    const plain = await runCli(['apikey', 'create', '--name', 'ops', '--scopes', 'admin'], { cwd });
    expect(plain.stdout).toMatch(/^mr_\w+_[\w-]+\n$/);
    expect(plain.stderr).toMatch(/shown only this once/);

    const table = await runCli(['apikey', 'list'], { cwd });
    expect(lines(table.stdout)[0]).toMatch(/^ID\s+NAME\s+SCOPES\s+DOMAIN\s+CREATED\s+LAST USED\s+STATUS$/);
    expect(table.stdout).not.toContain(key.key);
    expect(table.stdout).toMatch(/ci\s+send,read\s+example\.test/);

    const bad = await runCli(['apikey', 'create', '--name', 'x', '--scopes', 'send,root'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown scope root/);
    const dup = await runCli(['apikey', 'create', '--name', 'ci'], { cwd });
    expect(dup.stderr).toMatch(/already exists/);
  });

  it('revokes a key: requests with it get 401 at once', async () => {
    t = await startTestServer({ dataDir: path.join(cwd, 'data') }, { http: true });
    const api = apiClient(t, key.key);
    expect((await api.get('/v1/messages')).status).toBe(200);
    expect((await api.get('/v1/suppressions')).status).toBe(403);

    const revoked = await runCli(['apikey', 'revoke', 'ci'], { cwd });
    expect(revoked.stdout).toBe('key ci revoked\n');
    const after = await api.get('/v1/messages');
    expect(after.status).toBe(401);
    expect(after.json.error.message).toBe('API key has been revoked');
    const listed = JSON.parse((await runCli(['apikey', 'list', '--json'], { cwd })).stdout) as {
      name: string;
      revokedAt: string | null;
      lastUsedAt: string | null;
    }[];
    expect(listed.map((k) => [k.name, k.revokedAt !== null, k.lastUsedAt !== null])).toEqual([
      ['ci', true, true],
      ['ops', false, false],
    ]);
  });
});
