import { beforeAll, describe, expect, it } from 'vitest';
import { encodeScram } from '../../src/auth/credentials.js';
import type { SaslStep } from '../../src/auth/sasl/index.js';
import { ScramClient } from '../helpers/scram-client.js';
import { b, challengeText, deps, fixedRandom, MemoryUsers, mech } from './sasl-helpers.js';

const users = new MemoryUsers();
const scram = () => mech('SCRAM-SHA-256', deps(users));

beforeAll(async () => {
  const rfcSalt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  await users.add('user', 'pencil', {
    credentials: { passwordHash: 'unused', scram: await encodeScram('pencil', rfcSalt, 4096), cramSecret: null },
  });
  await users.add('Frank@example.com', 'ﬁsh & chips');
  await users.add('odd,na=me@example.com', 'odd');
  await users.add('grace@example.com', 'hopper', { disabled: true });
  await users.add('heidi@example.com', 'noscram', {
    credentials: { passwordHash: 'unused', scram: null, cramSecret: null },
  });
});

async function login(client: ScramClient, tamper?: Parameters<ScramClient['final']>[1]) {
  const m = scram();
  const serverFirst = challengeText(await m.start(b(client.first())));
  return { serverFirst, result: await m.step(b(client.final(serverFirst, tamper))) };
}

const finalText = (step: SaslStep) => (step.type === 'success' ? step.final?.toString('utf8') : undefined);

describe('SASL SCRAM-SHA-256', () => {
  it('reproduces the RFC 7677 example exchange byte for byte', async () => {
    const serverNonce = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    // Invert the nonce alphabet (printable ASCII without ',') to get the random bytes behind it.
    const bytes = Buffer.from([...serverNonce].map((c) => c.charCodeAt(0) - (c.charCodeAt(0) < 0x2c ? 0x21 : 0x22)));
    const m = mech('scram-sha-256', deps(users, { random: fixedRandom(bytes) }));
    const first = await m.start(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(challengeText(first)).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    const last = await m.step(
      b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
    );
    expect(last).toMatchObject({ type: 'success', user: 'user' });
    expect(finalText(last)).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('authenticates an independent client and proves the server knows the key', async () => {
    const client = new ScramClient('frank@EXAMPLE.com', 'ﬁsh & chips');
    const { serverFirst, result } = await login(client);
    expect(serverFirst).toMatch(/^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(result).toMatchObject({ type: 'success', user: 'Frank@example.com' });
    expect(finalText(result)).toBe(client.expectedServerFinal());
  });

  it('asks for client-first with an empty challenge when there is no initial response', async () => {
    const client = new ScramClient('user', 'pencil');
    const m = scram();
    expect(challengeText(await m.start(null))).toBe('');
    const serverFirst = challengeText(await m.step(b(client.first())));
    expect(await m.step(b(client.final(serverFirst)))).toMatchObject({ type: 'success' });
  });

  it('decodes =2C and =3D in the username', async () => {
    const { result } = await login(new ScramClient('odd,na=me@example.com', 'odd'));
    expect(result).toMatchObject({ type: 'success', user: 'odd,na=me@example.com' });
  });

  it('accepts the y,, header and an authzid naming the user', async () => {
    expect((await login(new ScramClient('user', 'pencil', 'y,,'))).result).toMatchObject({ type: 'success' });
    const withAuthz = new ScramClient('user', 'pencil', 'n,a=USER,');
    expect((await login(withAuthz)).result).toMatchObject({ type: 'success' });
  });

  it('fails a wrong password without sending server-final', async () => {
    const { result } = await login(new ScramClient('user', 'pen'));
    expect(result).toEqual({ type: 'failure', reason: 'credentials', user: 'user' });
  });

  it('runs the exchange for an unknown user with a stable fake salt, then fails', async () => {
    const salt = (s: string) => /,s=([^,]+),/.exec(s)?.[1];
    const a = await login(new ScramClient('nobody@example.com', 'x'));
    const again = await login(new ScramClient('Nobody@Example.com', 'y'));
    const other = await login(new ScramClient('someone@example.com', 'x'));
    expect(a.serverFirst).toMatch(/,i=4096$/);
    expect(Buffer.from(salt(a.serverFirst) ?? '', 'base64')).toHaveLength(16);
    expect(salt(again.serverFirst)).toBe(salt(a.serverFirst));
    expect(salt(other.serverFirst)).not.toBe(salt(a.serverFirst));
    expect(a.result).toEqual({ type: 'failure', reason: 'credentials', user: 'nobody@example.com' });
  });

  it('fails a user without SCRAM keys like an unknown one', async () => {
    const { serverFirst, result } = await login(new ScramClient('heidi@example.com', 'noscram'));
    expect(serverFirst).toMatch(/,i=4096$/);
    expect(result).toEqual({ type: 'failure', reason: 'credentials', user: 'heidi@example.com' });
  });

  it('reports a disabled user only after a valid proof', async () => {
    expect((await login(new ScramClient('grace@example.com', 'hopper'))).result).toEqual({
      type: 'failure',
      reason: 'disabled',
      user: 'grace@example.com',
    });
    expect((await login(new ScramClient('grace@example.com', 'nope'))).result).toMatchObject({
      reason: 'credentials',
    });
  });

  it('refuses an authzid naming someone else', async () => {
    expect(await scram().start(b('n,a=grace@example.com,n=user,r=abc'))).toEqual({
      type: 'failure',
      reason: 'credentials',
      user: 'user',
    });
  });

  it.each([
    ['channel binding', 'p=tls-unique,,n=user,r=abc'],
    ['an unknown gs2 flag', 'x,,n=user,r=abc'],
    ['no gs2 header', 'n=user,r=abc'],
    ['a malformed authzid', 'n,user,n=user,r=abc'],
    ['a mandatory extension', 'n,,m=ext,n=user,r=abc'],
    ['a bad escape in the username', 'n,,n=us=41er,r=abc'],
    ['an empty username', 'n,,n=,r=abc'],
    ['a missing nonce', 'n,,n=user'],
    ['an empty nonce', 'n,,n=user,r='],
    ['a nonce with a control character', 'n,,n=user,r=ab\tc'],
    ['invalid UTF-8', Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61])],
  ])('rejects client-first with %s as malformed', async (_label, data) => {
    const step = await scram().start(typeof data === 'string' ? b(data) : data);
    expect(step).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('ignores optional extensions after the nonce', async () => {
    const client = new ScramClient('user', 'pencil');
    const m = scram();
    const serverFirst = challengeText(await m.start(b(`${client.first()},x=ext`)));
    // The client signs the bare message it sent, extension included.
    (client as unknown as { bare: string }).bare += ',x=ext';
    expect(await m.step(b(client.final(serverFirst)))).toMatchObject({ type: 'success' });
  });

  it.each([
    ['a different channel binding', { cbind: Buffer.from('y,,').toString('base64') }],
    ['a different nonce', { nonce: 'forged' }],
    ['a short proof', { proof: (p: Buffer) => p.subarray(0, 31) }],
  ])('rejects client-final with %s as malformed', async (_label, tamper) => {
    const { result } = await login(new ScramClient('user', 'pencil'), tamper);
    expect(result).toMatchObject({ type: 'failure', reason: 'malformed', user: 'user' });
  });

  it('fails a flipped proof bit as bad credentials', async () => {
    const flip = (p: Buffer) => Buffer.from(p.map((x, i) => (i === 0 ? x ^ 1 : x)));
    expect((await login(new ScramClient('user', 'pencil'), { proof: flip })).result).toMatchObject({
      reason: 'credentials',
    });
  });

  it.each([
    ['no proof', (s: string) => s.replace(/,p=.*$/, '')],
    ['proof not last', (s: string) => s.replace(/^(c=[^,]+),(r=[^,]+),(p=.*)$/, '$1,$3,$2')],
    ['bad base64 proof', (s: string) => s.replace(/,p=.*$/, `,p=${'!'.repeat(44)}`)],
  ])('rejects client-final with %s as malformed', async (_label, edit) => {
    const client = new ScramClient('user', 'pencil');
    const m = scram();
    const serverFirst = challengeText(await m.start(b(client.first())));
    expect(await m.step(b(edit(client.final(serverFirst))))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });

  it('uses fresh, comma-free server nonces', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const serverFirst = challengeText(await scram().start(b('n,,n=user,r=abc')));
      const nonce = /^r=abc([^,]+),/.exec(serverFirst)?.[1] ?? '';
      expect(nonce).toMatch(/^[\x21-\x2b\x2d-\x7e]{30}$/);
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(20);
  });

  it('refuses steps after the exchange ended', async () => {
    const m = scram();
    const client = new ScramClient('user', 'pencil');
    const serverFirst = challengeText(await m.start(b(client.first())));
    const final = client.final(serverFirst);
    expect(await m.step(b(final))).toMatchObject({ type: 'success' });
    expect(await m.step(b(final))).toMatchObject({ type: 'failure', reason: 'malformed' });
  });
});
