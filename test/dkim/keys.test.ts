import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  defaultSelector,
  dkimRecord,
  generateDkimKey,
  isSelector,
  publicValueOf,
  txtStrings,
} from '../../src/dkim/index.js';

describe('generateDkimKey', () => {
  it('rsa-2048: PKCS#8 PEM private key, p= is the SubjectPublicKeyInfo in base64', () => {
    const { privateKey, publicKey } = generateDkimKey('rsa-2048');
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const priv = createPrivateKey(privateKey);
    expect(priv.asymmetricKeyType).toBe('rsa');
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const pub = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(pub.export({ format: 'jwk' }).n).toBe(createPublicKey(priv).export({ format: 'jwk' }).n);
    expect(publicValueOf(privateKey)).toBe(publicKey);
  });

  it('ed25519: p= is the bare 32-byte key (RFC 8463), not the SPKI', () => {
    const { privateKey, publicKey } = generateDkimKey('ed25519');
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(privateKey).asymmetricKeyType).toBe('ed25519');
    const raw = Buffer.from(publicKey, 'base64');
    expect(raw).toHaveLength(32);
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    expect(Buffer.from(jwk.x!, 'base64url').equals(raw)).toBe(true);
    expect(publicValueOf(privateKey)).toBe(publicKey);
  });

  it('makes a new key every time', () => {
    expect(generateDkimKey('ed25519').publicKey).not.toBe(generateDkimKey('ed25519').publicKey);
  });

  it('refuses an unknown algorithm', () => {
    expect(() => generateDkimKey('rsa-1024' as 'rsa-2048')).toThrow(/unknown DKIM algorithm "rsa-1024"/);
  });
});

describe('records and selectors', () => {
  it('dkimRecord names SEL._domainkey.DOMAIN with v=DKIM1, k= and p=', () => {
    expect(dkimRecord({ domain: 'example.com', selector: 'mr202405', algorithm: 'ed25519', publicKey: 'KEY' })).toEqual(
      {
        name: 'mr202405._domainkey.example.com',
        value: 'v=DKIM1; k=ed25519; p=KEY',
      },
    );
    expect(dkimRecord({ domain: 'example.com', selector: 's', algorithm: 'rsa-2048', publicKey: 'K' }).value).toBe(
      'v=DKIM1; k=rsa; p=K',
    );
  });

  it('defaultSelector is mr + yyyymm in UTC', () => {
    expect(defaultSelector(new Date('2024-05-31T23:30:00Z'))).toBe('mr202405');
    expect(defaultSelector(new Date('2025-12-01T00:00:00Z'))).toBe('mr202512');
  });

  it('isSelector accepts DNS labels only', () => {
    for (const ok of ['mr202405', 'mail-2024', 's1.rotation', 'a_b']) expect(isSelector(ok), ok).toBe(true);
    for (const bad of ['', '-a', 'a-', 'a..b', 'has space', 'semi;colon', 'x'.repeat(64)]) {
      expect(isSelector(bad), bad).toBe(false);
    }
  });

  it('txtStrings splits at 255 octets and never inside a character', () => {
    expect(txtStrings('short')).toEqual(['short']);
    expect(txtStrings('')).toEqual(['']);
    const long = 'a'.repeat(600);
    expect(txtStrings(long).map((s) => s.length)).toEqual([255, 255, 90]);
    const multibyte = `${'a'.repeat(254)}é${'b'.repeat(10)}`;
    const parts = txtStrings(multibyte);
    expect(parts.map((s) => Buffer.byteLength(s))).toEqual([254, 12]);
    expect(parts.join('')).toBe(multibyte);
  });
});
