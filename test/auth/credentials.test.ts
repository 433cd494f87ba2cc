import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeScram, makeCredentials, parseScram, SCRAM_ITERATIONS } from '../../src/auth/credentials.js';
import { verifyPassword } from '../../src/auth/password.js';

describe('makeCredentials', () => {
  it('makes a scrypt hash, SCRAM keys and no CRAM secret by default', async () => {
    const c = await makeCredentials('correct horse');
    expect(await verifyPassword('correct horse', c.passwordHash)).toBe(true);
    expect(c.cramSecret).toBeNull();
    const keys = parseScram(c.scram ?? '');
    expect(keys).not.toBeNull();
    expect(keys?.iterations).toBe(SCRAM_ITERATIONS);
    expect(SCRAM_ITERATIONS).toBe(4096);
    expect(keys?.salt).toHaveLength(16);
    expect(keys?.storedKey).toHaveLength(32);
    expect(keys?.serverKey).toHaveLength(32);
  });

  it('stores the CRAM-MD5 secret (base64 of the password) only when asked', async () => {
    const c = await makeCredentials('pässwörd', { cram: true });
    expect(Buffer.from(c.cramSecret ?? '', 'base64').toString('utf8')).toBe('pässwörd');
    expect((await makeCredentials('x', { cram: false })).cramSecret).toBeNull();
  });

  it('salts SCRAM keys per call', async () => {
    const a = parseScram((await makeCredentials('same')).scram ?? '');
    const b = parseScram((await makeCredentials('same')).scram ?? '');
    expect(a?.salt.equals(b?.salt ?? Buffer.alloc(0))).toBe(false);
    expect(a?.storedKey.equals(b?.storedKey ?? Buffer.alloc(0))).toBe(false);
  });

  it('derives keys as RFC 5802 defines them (checked with pbkdf2Sync)', async () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const keys = parseScram(await encodeScram('pencil', salt, 4096));
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(keys?.storedKey.equals(createHash('sha256').update(clientKey).digest())).toBe(true);
    expect(keys?.serverKey.equals(createHmac('sha256', salted).update('Server Key').digest())).toBe(true);
  });

  it('normalizes the SCRAM password with NFKC (fullwidth and composed forms match)', async () => {
    const salt = Buffer.alloc(16, 7);
    expect(await encodeScram('ｐａｓｓ', salt)).toBe(await encodeScram('pass', salt));
    expect(await encodeScram('e\u0301', salt)).toBe(await encodeScram('\u00e9', salt));
  });
});

describe('parseScram', () => {
  const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString('base64');
  const encode = (fields: string[]) => fields.join('$');
  const good = encode(['4096', b64(16, 1), b64(32, 2), b64(32, 3)]);

  it('decodes a well-formed value', () => {
    const keys = parseScram(good);
    expect(keys?.iterations).toBe(4096);
    expect(keys?.salt.equals(Buffer.alloc(16, 1))).toBe(true);
    expect(keys?.storedKey.equals(Buffer.alloc(32, 2))).toBe(true);
    expect(keys?.serverKey.equals(Buffer.alloc(32, 3))).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['too few fields', encode(['4096', b64(16, 1), b64(32, 2)])],
    ['too many fields', `${good}$x`],
    ['zero iterations', encode(['0', b64(16, 1), b64(32, 2), b64(32, 3)])],
    ['non-numeric iterations', encode(['4k', b64(16, 1), b64(32, 2), b64(32, 3)])],
    ['huge iterations', encode(['999999999', b64(16, 1), b64(32, 2), b64(32, 3)])],
    ['empty salt', encode(['4096', '', b64(32, 2), b64(32, 3)])],
    ['bad base64', encode(['4096', '!!!!', b64(32, 2), b64(32, 3)])],
    ['unpadded base64', encode(['4096', b64(16, 1).replace(/=+$/, ''), b64(32, 2), b64(32, 3)])],
    ['short stored key', encode(['4096', b64(16, 1), b64(16, 2), b64(32, 3)])],
    ['long server key', encode(['4096', b64(16, 1), b64(32, 2), b64(48, 3)])],
  ])('rejects %s', (_label, value) => {
    expect(parseScram(value)).toBeNull();
  });
});
