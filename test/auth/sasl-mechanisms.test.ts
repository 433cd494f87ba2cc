import { describe, expect, it } from 'vitest';
import { createMechanism, MECHANISMS } from '../../src/auth/sasl/index.js';
import { deps, MemoryUsers } from './sasl-helpers.js';

const d = deps(new MemoryUsers());

describe('createMechanism', () => {
  it('lists the four mechanisms', () => {
    expect(MECHANISMS).toEqual(['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256']);
  });

  it.each(MECHANISMS)('creates %s under any ASCII case', (name) => {
    expect(createMechanism(name, d)?.name).toBe(name);
    expect(createMechanism(name.toLowerCase(), d)?.name).toBe(name);
  });

  it('gives a fresh exchange each time', () => {
    expect(createMechanism('PLAIN', d)).not.toBe(createMechanism('PLAIN', d));
  });

  it.each(['', 'GSSAPI', 'SCRAM-SHA-1', 'SCRAM-SHA-256-PLUS', 'XOAUTH2', ' PLAIN', 'pla\u0131n'])(
    'returns null for %j',
    (name) => {
      expect(createMechanism(name, d)).toBeNull();
    },
  );
});
