import { beforeAll, describe, expect, it } from 'vitest';
import { b, challengeText, deps, MemoryUsers, mech } from './sasl-helpers.js';

const users = new MemoryUsers();
const plain = () => mech('PLAIN', deps(users));
const msg = (authzid: string, authcid: string, passwd: string) => b(`${authzid}\0${authcid}\0${passwd}`);

beforeAll(async () => {
  await users.add('Alice@example.com', 'wonderland');
  await users.add('mallory@example.com', 'sekret', { disabled: true });
});

describe('SASL PLAIN', () => {
  it('authenticates with an initial response, returning the stored address', async () => {
    expect(await plain().start(msg('', 'alice@EXAMPLE.com', 'wonderland'))).toEqual({
      type: 'success',
      user: 'Alice@example.com',
    });
  });

  it('sends an empty challenge without an initial response, then authenticates', async () => {
    const m = plain();
    const first = await m.start(null);
    expect(challengeText(first)).toBe('');
    expect(await m.step(msg('', 'Alice@example.com', 'wonderland'))).toMatchObject({ type: 'success' });
  });

  it('accepts an authzid equal to the authcid (ignoring case)', async () => {
    const step = await plain().start(msg('ALICE@example.com', 'alice@example.com', 'wonderland'));
    expect(step).toMatchObject({ type: 'success', user: 'Alice@example.com' });
  });

  it('refuses an authzid naming someone else, even with the right password', async () => {
    const step = await plain().start(msg('mallory@example.com', 'alice@example.com', 'wonderland'));
    expect(step).toEqual({ type: 'failure', reason: 'credentials', user: 'alice@example.com' });
  });

  it('fails a wrong password', async () => {
    const step = await plain().start(msg('', 'alice@example.com', 'Wonderland'));
    expect(step).toEqual({ type: 'failure', reason: 'credentials', user: 'alice@example.com' });
  });

  it('fails an unknown user the same way', async () => {
    const step = await plain().start(msg('', 'nobody@example.com', 'wonderland'));
    expect(step).toEqual({ type: 'failure', reason: 'credentials', user: 'nobody@example.com' });
  });

  it('reports a disabled user only after the right password', async () => {
    expect(await plain().start(msg('', 'mallory@example.com', 'sekret'))).toEqual({
      type: 'failure',
      reason: 'disabled',
      user: 'mallory@example.com',
    });
    expect(await plain().start(msg('', 'mallory@example.com', 'guess'))).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'mallory@example.com',
    });
  });

  it.each([
    ['no NUL', b('alice@example.com wonderland')],
    ['one NUL', b('alice@example.com\0wonderland')],
    ['three NULs', b('\0alice@example.com\0wonderland\0')],
    ['empty authcid', msg('', '', 'wonderland')],
    ['empty password', msg('', 'alice@example.com', '')],
    ['empty message', Buffer.alloc(0)],
    ['invalid UTF-8', Buffer.concat([b('\0alice@example.com\0'), Buffer.from([0xc3, 0x28])])],
  ])('rejects %s as malformed', async (_label, data) => {
    expect(await plain().start(data)).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('refuses further steps once the exchange has ended', async () => {
    const m = plain();
    await m.start(msg('', 'alice@example.com', 'wrong'));
    expect(await m.step(msg('', 'alice@example.com', 'wonderland'))).toEqual({
      type: 'failure',
      reason: 'malformed',
      user: null,
    });
    expect(await m.start(null)).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('refuses a step before start', async () => {
    expect(await plain().step(msg('', 'alice@example.com', 'wonderland'))).toMatchObject({
      type: 'failure',
      reason: 'malformed',
    });
  });
});
