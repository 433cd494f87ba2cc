import { beforeAll, describe, expect, it } from 'vitest';
import type { TlsaRecord } from '../../src/dns/index.js';
import { matchesRecord, usable, verifyChain } from '../../src/transports/dane-match.js';
import { association, der, makeTestCerts } from '../helpers/certs.js';

// DANE matching (RFC 6698 2.1, RFC 7672 3.1) on certificates made with openssl: a self-signed
// server certificate for DANE-EE, and a test CA with a leaf for mx.ta.test for DANE-TA.

let self: { cert: string };
let leaf: { cert: string };
let ca: { cert: string };
let now = 0;

const rec = (usage: number, selector: number, matchingType: number, data: Buffer): TlsaRecord => ({
  usage,
  selector,
  matchingType,
  data,
});

beforeAll(() => {
  const certs = makeTestCerts('mailroom-dane-match-');
  self = certs.selfSigned('self', ['mx.ee.test']);
  leaf = certs.leaf('leaf', ['mx.ta.test']);
  ca = certs.ca;
  now = Date.now() + 1000; // certificates start being valid when they are made
}, 30_000);

describe('usable TLSA records', () => {
  it('keeps DANE-TA and DANE-EE with known parameters and digest lengths', () => {
    expect(usable(rec(3, 1, 1, Buffer.alloc(32)))).toBe(true);
    expect(usable(rec(2, 0, 2, Buffer.alloc(64)))).toBe(true);
    expect(usable(rec(3, 0, 0, Buffer.alloc(300)))).toBe(true);
    // PKIX-TA and PKIX-EE are not for SMTP (RFC 7672 3.1.3).
    expect(usable(rec(0, 1, 1, Buffer.alloc(32)))).toBe(false);
    expect(usable(rec(1, 1, 1, Buffer.alloc(32)))).toBe(false);
    // Unknown selector or matching type, wrong digest length, empty data.
    expect(usable(rec(3, 2, 1, Buffer.alloc(32)))).toBe(false);
    expect(usable(rec(3, 1, 3, Buffer.alloc(32)))).toBe(false);
    expect(usable(rec(3, 1, 1, Buffer.alloc(31)))).toBe(false);
    expect(usable(rec(3, 1, 2, Buffer.alloc(32)))).toBe(false);
    expect(usable(rec(3, 0, 0, Buffer.alloc(0)))).toBe(false);
  });
});

describe('matching a certificate', () => {
  it('matches every selector and matching type, and nothing else', () => {
    for (const selector of [0, 1] as const) {
      for (const matchingType of [0, 1, 2] as const) {
        const data = association(self.cert, selector, matchingType);
        expect(matchesRecord(der(self.cert), rec(3, selector, matchingType, data)), `${selector} ${matchingType}`).toBe(
          true,
        );
        expect(matchesRecord(der(leaf.cert), rec(3, selector, matchingType, data))).toBe(false);
      }
    }
  });
});

describe('verifying a chain', () => {
  const names = ['mx.ee.test'];

  it('DANE-EE: the server certificate matches, whatever its name and dates', () => {
    const ee = rec(3, 1, 1, association(self.cert, 1, 1));
    expect(verifyChain([der(self.cert)], [ee], { names, now })).toBeNull();
    expect(verifyChain([der(self.cert)], [ee], { names: ['other.test'], now: now + 10 * 365 * 86_400_000 })).toBeNull();
    expect(verifyChain([der(leaf.cert)], [ee], { names, now })).toMatch(/matches no DANE-EE/);
    expect(verifyChain([], [ee], { names, now })).toMatch(/no certificate/);
  });

  it('one matching record among others is enough; unusable ones are ignored', () => {
    const wrong = rec(3, 1, 1, Buffer.alloc(32, 9));
    const pkix = rec(1, 1, 1, association(self.cert, 1, 1));
    expect(verifyChain([der(self.cert)], [wrong, pkix], { names, now })).not.toBeNull();
    expect(
      verifyChain([der(self.cert)], [wrong, rec(3, 0, 2, association(self.cert, 0, 2))], { names, now }),
    ).toBeNull();
  });

  it('DANE-TA: a presented CA signs the leaf, which names the MX host and is within its dates', () => {
    const ta = rec(2, 1, 1, association(ca.cert, 1, 1));
    const chain = [der(leaf.cert), der(ca.cert)];
    expect(verifyChain(chain, [ta], { names: ['mx.ta.test'], now })).toBeNull();
    expect(verifyChain(chain, [ta], { names: ['MX.TA.TEST'], now })).toBeNull();
    expect(verifyChain(chain, [ta], { names: ['mx.other.test'], now })).toMatch(/not valid for mx\.other\.test/);
    expect(verifyChain(chain, [ta], { names: ['mx.ta.test'], now: now + 10 * 86_400_000 })).toMatch(/expired/);
    // The anchor must be above the leaf: a TA record for the leaf itself does not authenticate it.
    expect(verifyChain(chain, [rec(2, 1, 1, association(leaf.cert, 1, 1))], { names: ['mx.ta.test'], now })).toMatch(
      /matches a TLSA record/,
    );
    // A CA the server does not send is not found, unless the record carries the whole certificate (2 0 0).
    expect(verifyChain([der(leaf.cert)], [ta], { names: ['mx.ta.test'], now })).not.toBeNull();
    expect(verifyChain([der(leaf.cert)], [rec(2, 0, 0, der(ca.cert))], { names: ['mx.ta.test'], now })).toBeNull();
  });

  it('DANE-TA: a self-signed certificate is not signed by the anchor', () => {
    const ta = rec(2, 1, 1, association(ca.cert, 1, 1));
    expect(verifyChain([der(self.cert), der(ca.cert)], [ta], { names, now })).toMatch(/not signed/);
  });
});
