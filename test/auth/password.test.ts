import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/auth/password.js';

describe('password hashing', () => {
  it('encodes scrypt parameters, a 16-byte salt and a 32-byte key', async () => {
    const encoded = await hashPassword('correct horse');
    const parts = encoded.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(parts[4] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5] ?? '', 'base64')).toHaveLength(32);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const encoded = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', encoded)).toBe(true);
    expect(await verifyPassword('correct horsE', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same');
    const b = await hashPassword('same');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('handles non-ASCII passwords (NFC and NFD forms match)', async () => {
    const encoded = await hashPassword('pässwörd');
    expect(await verifyPassword('pässwörd', encoded)).toBe(true);
    expect(await verifyPassword('pa\u0308sswo\u0308rd', encoded)).toBe(true);
  });

  it('returns false for malformed encodings instead of throwing', async () => {
    const good = await hashPassword('pw');
    const [, , , , salt, hash] = good.split('$');
    const bad = [
      '',
      'plain',
      'bcrypt$10$abc',
      `scrypt$16384$8$1$${salt}`,
      `scrypt$16384$8$1$${salt}$${hash}$extra`,
      `scrypt$abc$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`,
      `scrypt$16384$0$1$${salt}$${hash}`,
      `scrypt$16384$8$1$$${hash}`,
      `scrypt$16384$8$1$${salt}$`,
      `scrypt$16384$8$1$${salt}$not*base64`,
      `scrypt$16384$8$1$${salt}$${Buffer.alloc(4).toString('base64')}`,
      `scrypt$1073741824$8$1$${salt}$${hash}`,
    ];
    for (const encoded of bad) expect(await verifyPassword('pw', encoded), encoded).toBe(false);
  });

  it('verifies hashes made with other cost parameters', async () => {
    // A hash from a future or past default must still verify: parameters come from the encoding.
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    const encoded = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword('pw', encoded)).toBe(true);
    expect(await verifyPassword('px', encoded)).toBe(false);
  });
});
