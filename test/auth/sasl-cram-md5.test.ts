import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { b, challengeText, deps, fixedRandom, MemoryUsers, mech } from './sasl-helpers.js';

const users = new MemoryUsers();
const cram = () => mech('CRAM-MD5', deps(users));
const digest = (secret: string, challenge: string) => createHmac('md5', secret).update(challenge).digest('hex');

beforeAll(async () => {
  await users.add('tim', 'tanstaaftanstaaf', { cram: true });
  await users.add('carol@example.com', 'c4r0l', { cram: true });
  await users.add('dave@example.com', 'nocram');
  await users.add('zed@example.com', 'zzz', { cram: true, disabled: true });
});

async function respond(username: string, password: string, transform = (hex: string) => hex) {
  const m = cram();
  const challenge = challengeText(await m.start(null));
  return m.step(b(`${username} ${transform(digest(password, challenge))}`));
}

describe('SASL CRAM-MD5', () => {
  it('reproduces the RFC 2195 example exactly', async () => {
    const random = Buffer.alloc(8);
    random.writeBigUInt64BE(1896n);
    const m = mech(
      'cram-md5',
      deps(users, { hostname: 'postoffice.reston.mci.net', random: fixedRandom(random), now: () => 697170952_000 }),
    );
    const first = await m.start(null);
    expect(challengeText(first)).toBe('<1896.697170952@postoffice.reston.mci.net>');
    expect(first.type === 'challenge' && first.data.toString('base64')).toBe(
      'PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+',
    );
    const response = Buffer.from('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw', 'base64');
    expect(response.toString()).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(await m.step(response)).toEqual({ type: 'success', user: 'tim' });
  });

  it('issues a fresh <random.timestamp@hostname> challenge each time', async () => {
    const a = challengeText(await cram().start(null));
    const c = challengeText(await cram().start(null));
    expect(a).toMatch(/^<\d+\.\d+@mx\.example\.test>$/);
    expect(a).not.toBe(c);
  });

  it('authenticates a CRAM-enabled user, accepting upper-case hex', async () => {
    expect(await respond('Carol@Example.com', 'c4r0l')).toEqual({ type: 'success', user: 'carol@example.com' });
    expect(await respond('carol@example.com', 'c4r0l', (h) => h.toUpperCase())).toMatchObject({ type: 'success' });
  });

  it('fails a wrong digest', async () => {
    expect(await respond('carol@example.com', 'carol')).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'carol@example.com',
    });
  });

  it('fails an unknown user the same way', async () => {
    expect(await respond('nobody@example.com', 'c4r0l')).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'nobody@example.com',
    });
  });

  it('fails a user without CRAM-MD5 as a wrong password, even with the right digest', async () => {
    expect(await respond('dave@example.com', 'nocram')).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'dave@example.com',
    });
  });

  it('reports a disabled user only after the right digest', async () => {
    expect(await respond('zed@example.com', 'zzz')).toMatchObject({ type: 'failure', reason: 'disabled' });
    expect(await respond('zed@example.com', 'yyy')).toMatchObject({ type: 'failure', reason: 'credentials' });
  });

  it.each([
    ['no space', 'carol@example.comb913a602c7eda7a495b4e6e7334d3890'],
    ['short digest', 'carol@example.com b913a602c7eda7a495b4e6e7334d389'],
    ['long digest', 'carol@example.com b913a602c7eda7a495b4e6e7334d38900'],
    ['non-hex digest', 'carol@example.com g913a602c7eda7a495b4e6e7334d3890'],
    ['no username', ' b913a602c7eda7a495b4e6e7334d3890'],
    ['empty', ''],
  ])('rejects %s as malformed', async (_label, text) => {
    const m = cram();
    await m.start(null);
    expect(await m.step(b(text))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('rejects invalid UTF-8 as malformed', async () => {
    const m = cram();
    await m.start(null);
    const data = Buffer.concat([Buffer.from([0xff]), b(' b913a602c7eda7a495b4e6e7334d3890')]);
    expect(await m.step(data)).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('rejects an initial response (the server speaks first)', async () => {
    expect(await cram().start(b('tim'))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });
});
