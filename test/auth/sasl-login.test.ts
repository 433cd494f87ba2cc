import { beforeAll, describe, expect, it } from 'vitest';
import { b, challengeText, deps, MemoryUsers, mech } from './sasl-helpers.js';

const users = new MemoryUsers();
const login = () => mech('login', deps(users));

beforeAll(async () => {
  await users.add('bob@example.com', 'builder');
  await users.add('eve@example.com', 'apple', { disabled: true });
});

async function run(username: string, password: string | Buffer) {
  const m = login();
  expect(challengeText(await m.start(null))).toBe('Username:');
  expect(challengeText(await m.step(b(username)))).toBe('Password:');
  return m.step(typeof password === 'string' ? b(password) : password);
}

describe('SASL LOGIN', () => {
  it('asks for username then password and authenticates', async () => {
    expect(await run('BOB@example.com', 'builder')).toEqual({ type: 'success', user: 'bob@example.com' });
  });

  it('takes an initial response as the username', async () => {
    const m = login();
    expect(challengeText(await m.start(b('bob@example.com')))).toBe('Password:');
    expect(await m.step(b('builder'))).toMatchObject({ type: 'success', user: 'bob@example.com' });
  });

  it('fails a wrong password', async () => {
    expect(await run('bob@example.com', 'Builder')).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'bob@example.com',
    });
  });

  it('fails an empty password', async () => {
    expect(await run('bob@example.com', '')).toMatchObject({ type: 'failure', reason: 'credentials' });
  });

  it('fails an unknown user the same way', async () => {
    expect(await run('nobody@example.com', 'builder')).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'nobody@example.com',
    });
  });

  it('reports a disabled user only after the right password', async () => {
    expect(await run('eve@example.com', 'apple')).toMatchObject({ type: 'failure', reason: 'disabled' });
    expect(await run('eve@example.com', 'pear')).toMatchObject({ type: 'failure', reason: 'credentials' });
  });

  it('rejects a username that is not UTF-8, or empty', async () => {
    const m = login();
    await m.start(null);
    expect(await m.step(Buffer.from([0xff, 0xfe]))).toEqual({ type: 'failure', reason: 'malformed', user: null });
    expect(await login().start(Buffer.alloc(0))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('rejects a password that is not UTF-8', async () => {
    expect(await run('bob@example.com', Buffer.from([0x80]))).toEqual({
      type: 'failure',
      reason: 'malformed',
      user: 'bob@example.com',
    });
  });

  it('refuses further steps once the exchange has ended', async () => {
    const m = login();
    await m.start(b('bob@example.com'));
    await m.step(b('builder'));
    expect(await m.step(b('builder'))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });
});
