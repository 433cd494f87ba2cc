/**
 * Contract cases for what submission needs: login credentials, disabled users, sender grants,
 * failed-login counters and DKIM keys.
 */
import { describe, expect, it } from 'vitest';
import type { Credentials, DkimKey, Store } from '../../src/store/index.js';
import { StoreConflictError, StoreNotFoundError } from '../../src/store/index.js';

const SCRAM = '4096$c2FsdA==$c3RvcmVk$c2VydmVy';
const MIN = 60_000;

const dkimKey = (domain: string, selector: string, active?: boolean) => ({
  domain,
  selector,
  algorithm: 'ed25519' as const,
  privateKey: `-----BEGIN PRIVATE KEY-----\n${selector}\n-----END PRIVATE KEY-----\n`,
  publicKey: `pub-${selector}`,
  ...(active === undefined ? {} : { active }),
});

const activeOf = (keys: DkimKey[]) => keys.filter((k) => k.active).map((k) => `${k.domain}/${k.selector}`);

/** Auth contract cases; `s` returns the fresh store of the running test. */
export function describeAuthContract(s: () => Store): void {
  describeCredentials(s);
  describeSenderGrants(s);
  describeAuthFailures(s);
  describeDkimKeys(s);
}

function describeCredentials(s: () => Store): void {
  describe('credentials', () => {
    it('adds a user without SCRAM or CRAM secrets by default', async () => {
      const u = await s().addUser('plain@example.com', 'scrypt$h');
      expect(u).toMatchObject({ scram: null, cramSecret: null, disabled: false });
      expect(await s().getUser('plain@example.com')).toEqual(u);
    });

    it('stores SCRAM keys and a CRAM secret given to addUser', async () => {
      const u = await s().addUser('Both@Example.com', 'scrypt$h', {
        scram: SCRAM,
        cramSecret: 'c2VjcmV0',
        quotaBytes: 5,
      });
      expect(u).toMatchObject({ scram: SCRAM, cramSecret: 'c2VjcmV0', quotaBytes: 5 });
      expect(await s().getUser('both@example.com')).toEqual(u);
      expect(await s().getUserById(u.id)).toEqual(u);
      expect((await s().listUsers())[0]).toEqual(u);
    });

    it('replaces every secret at once with setCredentials, in any case of the address', async () => {
      const u = await s().addUser('Carol@example.com', 'old', { scram: 'old-scram', cramSecret: 'old-cram' });
      const next: Credentials = { passwordHash: 'new', scram: SCRAM, cramSecret: null };
      expect(await s().setCredentials('CAROL@EXAMPLE.COM', next)).toBe(true);
      expect(await s().getUser('carol@example.com')).toEqual({ ...u, ...next });
      const withCram: Credentials = { passwordHash: 'newer', scram: 'scram2', cramSecret: 'cram2' };
      expect(await s().setCredentials('carol@example.com', withCram)).toBe(true);
      expect(await s().getUser('carol@example.com')).toMatchObject(withCram);
      expect(await s().setCredentials('nobody@example.com', next)).toBe(false);
      expect(await s().setCredentials('not-an-address', next)).toBe(false);
    });

    it('setPassword changes only the password hash', async () => {
      await s().addUser('dan@example.com', 'old', { scram: SCRAM, cramSecret: 'cram' });
      expect(await s().setPassword('dan@example.com', 'new')).toBe(true);
      expect(await s().getUser('dan@example.com')).toMatchObject({
        passwordHash: 'new',
        scram: SCRAM,
        cramSecret: 'cram',
      });
    });

    it('disables and enables a user', async () => {
      const u = await s().addUser('Eve@example.com', 'h');
      expect(await s().setUserDisabled('EVE@example.com', true)).toBe(true);
      expect(await s().getUser('eve@example.com')).toEqual({ ...u, disabled: true });
      expect((await s().listUsers('example.com'))[0]?.disabled).toBe(true);
      expect(await s().setUserDisabled('eve@example.com', true)).toBe(true);
      expect((await s().getUserById(u.id))?.disabled).toBe(true);
      expect(await s().setUserDisabled('eve@EXAMPLE.com', false)).toBe(true);
      expect(await s().getUser('eve@example.com')).toEqual(u);
      expect(await s().setUserDisabled('nobody@example.com', true)).toBe(false);
      expect(await s().setUserDisabled('not-an-address', true)).toBe(false);
    });
  });
}

function describeSenderGrants(s: () => Store): void {
  describe('sender grants', () => {
    it('grants addresses and whole domains, lower-cased, sorted, once each', async () => {
      await s().addUser('Alice@example.com', 'h');
      await s().addSenderGrant('alice@EXAMPLE.com', 'Sales@Example.COM');
      await s().addSenderGrant('ALICE@example.com', '@Partner.Example');
      await s().addSenderGrant('alice@example.com', 'billing@example.com');
      await s().addSenderGrant('alice@example.com', 'SALES@example.com');
      expect(await s().listSenderGrants('Alice@example.com')).toEqual([
        '@partner.example',
        'billing@example.com',
        'sales@example.com',
      ]);
      expect(await s().listSenderGrants('ALICE@EXAMPLE.COM')).toHaveLength(3);
    });

    it('keeps grants per user', async () => {
      await s().addUser('a@example.com', 'h');
      await s().addUser('b@example.com', 'h');
      await s().addSenderGrant('a@example.com', 'shared@example.com');
      await s().addSenderGrant('b@example.com', 'shared@example.com');
      await s().addSenderGrant('b@example.com', 'only-b@example.com');
      expect(await s().listSenderGrants('a@example.com')).toEqual(['shared@example.com']);
      expect(await s().listSenderGrants('b@example.com')).toEqual(['only-b@example.com', 'shared@example.com']);
      expect(await s().removeSenderGrant('a@example.com', 'shared@example.com')).toBe(true);
      expect(await s().listSenderGrants('a@example.com')).toEqual([]);
      expect(await s().listSenderGrants('b@example.com')).toHaveLength(2);
    });

    it('removes a grant in any case, and answers false for what is not granted', async () => {
      await s().addUser('alice@example.com', 'h');
      await s().addSenderGrant('alice@example.com', 'sales@example.com');
      await s().addSenderGrant('alice@example.com', '@partner.example');
      expect(await s().removeSenderGrant('ALICE@example.com', 'SALES@example.com')).toBe(true);
      expect(await s().removeSenderGrant('alice@example.com', 'sales@example.com')).toBe(false);
      expect(await s().removeSenderGrant('alice@example.com', '@PARTNER.example')).toBe(true);
      expect(await s().removeSenderGrant('nobody@example.com', 'sales@example.com')).toBe(false);
      expect(await s().listSenderGrants('alice@example.com')).toEqual([]);
    });

    it('refuses a grant for an unknown user and lists nothing for one', async () => {
      await expect(s().addSenderGrant('nobody@example.com', 'x@example.com')).rejects.toBeInstanceOf(
        StoreNotFoundError,
      );
      expect(await s().listSenderGrants('nobody@example.com')).toEqual([]);
      expect(await s().listSenderGrants('not-an-address')).toEqual([]);
    });

    it('drops the grants with the user', async () => {
      await s().addUser('gone@example.com', 'h');
      await s().addSenderGrant('gone@example.com', 'sales@example.com');
      await s().removeUser('gone@example.com');
      await s().addUser('gone@example.com', 'h');
      expect(await s().listSenderGrants('gone@example.com')).toEqual([]);
    });
  });
}

function describeAuthFailures(s: () => Store): void {
  describe('failed logins', () => {
    it('counts failures per kind and key within a window', async () => {
      expect(await s().getAuthFailures('ip', '192.0.2.1', 1_000, 15 * MIN)).toEqual({
        count: 0,
        firstAt: null,
        lastAt: null,
      });
      expect(await s().recordAuthFailure('ip', '192.0.2.1', 1_000, 15 * MIN)).toEqual({
        count: 1,
        firstAt: 1_000,
        lastAt: 1_000,
      });
      await s().recordAuthFailure('ip', '192.0.2.1', 2_000, 15 * MIN);
      expect(await s().recordAuthFailure('ip', '192.0.2.1', 3_000, 15 * MIN)).toEqual({
        count: 3,
        firstAt: 1_000,
        lastAt: 3_000,
      });
      expect(await s().getAuthFailures('ip', '192.0.2.1', 4_000, 15 * MIN)).toEqual({
        count: 3,
        firstAt: 1_000,
        lastAt: 3_000,
      });
      // Same key, other kind; other key, same kind: separate counters.
      expect((await s().recordAuthFailure('user', '192.0.2.1', 3_000, 15 * MIN)).count).toBe(1);
      expect((await s().getAuthFailures('ip', '192.0.2.2', 4_000, 15 * MIN)).count).toBe(0);
    });

    it('counts a user in any case of the address as one', async () => {
      await s().recordAuthFailure('user', 'Alice@Example.com', 1_000, 15 * MIN);
      expect((await s().recordAuthFailure('user', 'alice@example.com', 2_000, 15 * MIN)).count).toBe(2);
      expect((await s().getAuthFailures('user', 'ALICE@EXAMPLE.COM', 3_000, 15 * MIN)).count).toBe(2);
    });

    it('starts a new window once the first failure is windowMs old', async () => {
      const w = 10 * MIN;
      await s().recordAuthFailure('ip', '2001:db8::1', 0, w);
      await s().recordAuthFailure('ip', '2001:db8::1', 5 * MIN, w);
      expect((await s().getAuthFailures('ip', '2001:db8::1', w - 1, w)).count).toBe(2);
      // The window is counted from the first failure, not the last one.
      expect(await s().getAuthFailures('ip', '2001:db8::1', w, w)).toEqual({ count: 0, firstAt: null, lastAt: null });
      expect(await s().recordAuthFailure('ip', '2001:db8::1', w, w)).toEqual({ count: 1, firstAt: w, lastAt: w });
      expect(await s().recordAuthFailure('ip', '2001:db8::1', w + 1, w)).toEqual({
        count: 2,
        firstAt: w,
        lastAt: w + 1,
      });
      // The same counter read with a shorter window has run out already.
      expect((await s().getAuthFailures('ip', '2001:db8::1', w + 5, 5)).count).toBe(0);
    });

    it('clears one counter', async () => {
      await s().recordAuthFailure('ip', '192.0.2.1', 1_000, MIN);
      await s().recordAuthFailure('user', 'bob@example.com', 1_000, MIN);
      expect(await s().clearAuthFailures('user', 'BOB@example.com')).toBe(true);
      expect(await s().clearAuthFailures('user', 'bob@example.com')).toBe(false);
      expect((await s().getAuthFailures('user', 'bob@example.com', 1_001, MIN)).count).toBe(0);
      expect((await s().getAuthFailures('ip', '192.0.2.1', 1_001, MIN)).count).toBe(1);
      expect(await s().clearAuthFailures('ip', '192.0.2.99')).toBe(false);
      expect((await s().recordAuthFailure('user', 'bob@example.com', 1_002, MIN)).count).toBe(1);
    });

    it('lists counters with failures since a time, most recent first', async () => {
      await s().recordAuthFailure('ip', '192.0.2.1', 1_000, MIN);
      await s().recordAuthFailure('user', 'old@example.com', 500, MIN);
      await s().recordAuthFailure('user', 'alice@example.com', 2_000, MIN);
      await s().recordAuthFailure('ip', '192.0.2.1', 3_000, MIN);
      await s().recordAuthFailure('ip', '198.51.100.7', 2_500, MIN);
      expect(await s().listAuthFailures(1_000)).toEqual([
        { kind: 'ip', key: '192.0.2.1', count: 2, firstAt: 1_000, lastAt: 3_000 },
        { kind: 'ip', key: '198.51.100.7', count: 1, firstAt: 2_500, lastAt: 2_500 },
        { kind: 'user', key: 'alice@example.com', count: 1, firstAt: 2_000, lastAt: 2_000 },
      ]);
      expect((await s().listAuthFailures(0)).map((e) => e.key)).toContain('old@example.com');
      expect(await s().listAuthFailures(3_001)).toEqual([]);
    });

    it('prunes counters whose last failure is older than a time', async () => {
      await s().recordAuthFailure('ip', '192.0.2.1', 1_000, 15 * MIN);
      await s().recordAuthFailure('ip', '192.0.2.2', 5_000, 15 * MIN);
      await s().recordAuthFailure('user', 'old@example.com', 2_000, 15 * MIN);
      expect(await s().pruneAuthFailures(3_000)).toBe(2);
      expect((await s().listAuthFailures(0)).map((e) => e.key)).toEqual(['192.0.2.2']);
      expect(await s().pruneAuthFailures(3_000)).toBe(0);
    });

    it('counts every concurrent failure', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => s().recordAuthFailure('ip', '203.0.113.5', 1_000 + i, MIN)),
      );
      expect((await s().getAuthFailures('ip', '203.0.113.5', 2_000, MIN)).count).toBe(20);
    });
  });
}

function describeDkimKeys(s: () => Store): void {
  describe('DKIM keys', () => {
    it('stores a key, lower-cases the domain, makes the first key of a domain active', async () => {
      const k = await s().addDkimKey(dkimKey('Example.COM', 's1'));
      expect(k).toEqual({
        domain: 'example.com',
        selector: 's1',
        algorithm: 'ed25519',
        privateKey: '-----BEGIN PRIVATE KEY-----\ns1\n-----END PRIVATE KEY-----\n',
        publicKey: 'pub-s1',
        active: true,
        createdAt: expect.any(Number),
      });
      expect(await s().getActiveDkimKey('EXAMPLE.com')).toEqual(k);
      expect(await s().listDkimKeys('example.com')).toEqual([k]);
      const rsa = await s().addDkimKey({ ...dkimKey('example.org', 'mail'), algorithm: 'rsa-2048' });
      expect(rsa).toMatchObject({ domain: 'example.org', algorithm: 'rsa-2048', active: true });
    });

    it('keeps a later key inactive unless asked, for rotation', async () => {
      await s().addDkimKey(dkimKey('example.com', 's1'));
      const s2 = await s().addDkimKey(dkimKey('example.com', 's2'));
      expect(s2.active).toBe(false);
      expect((await s().getActiveDkimKey('example.com'))?.selector).toBe('s1');
      expect((await s().listDkimKeys('example.com')).map((k) => k.selector)).toEqual(['s1', 's2']);
    });

    it('a key added active replaces the active one', async () => {
      await s().addDkimKey(dkimKey('example.com', 's1'));
      await s().addDkimKey(dkimKey('other.example', 'o1'));
      const s2 = await s().addDkimKey(dkimKey('example.com', 's2', true));
      expect(s2.active).toBe(true);
      expect(activeOf(await s().listDkimKeys())).toEqual(['example.com/s2', 'other.example/o1']);
      expect((await s().getActiveDkimKey('example.com'))?.selector).toBe('s2');
    });

    it('a first key added with active: false is not active', async () => {
      const k = await s().addDkimKey(dkimKey('example.com', 's1', false));
      expect(k.active).toBe(false);
      expect(await s().getActiveDkimKey('example.com')).toBeNull();
    });

    it('keeps selectors lower-case, as DNS compares them', async () => {
      const k = await s().addDkimKey(dkimKey('example.com', 'Mail2024'));
      expect(k.selector).toBe('mail2024');
      await expect(s().addDkimKey(dkimKey('example.com', 'MAIL2024'))).rejects.toBeInstanceOf(StoreConflictError);
      expect(await s().activateDkimKey('example.com', 'MAIL2024')).toBe(true);
      expect(await s().removeDkimKey('example.com', 'Mail2024')).toBe(true);
    });

    it('refuses a selector the domain already has', async () => {
      await s().addDkimKey(dkimKey('example.com', 's1'));
      await expect(s().addDkimKey(dkimKey('EXAMPLE.com', 's1', true))).rejects.toBeInstanceOf(StoreConflictError);
      expect((await s().getActiveDkimKey('example.com'))?.publicKey).toBe('pub-s1');
      expect(await s().listDkimKeys()).toHaveLength(1);
      // The same selector in another domain is another key.
      expect((await s().addDkimKey(dkimKey('example.org', 's1'))).active).toBe(true);
    });

    it('activates one selector of a domain, leaving the other domains alone', async () => {
      await s().addDkimKey(dkimKey('example.com', 's1'));
      await s().addDkimKey(dkimKey('example.com', 's2'));
      await s().addDkimKey(dkimKey('other.example', 'o1'));
      expect(await s().activateDkimKey('Example.com', 's2')).toBe(true);
      expect(activeOf(await s().listDkimKeys())).toEqual(['example.com/s2', 'other.example/o1']);
      expect(await s().activateDkimKey('example.com', 's2')).toBe(true);
      expect((await s().getActiveDkimKey('example.com'))?.selector).toBe('s2');
      expect(await s().activateDkimKey('example.com', 'missing')).toBe(false);
      expect(await s().activateDkimKey('nowhere.example', 's1')).toBe(false);
      expect((await s().getActiveDkimKey('example.com'))?.selector).toBe('s2');
    });

    it('removes keys; removing the active one leaves no active key', async () => {
      await s().addDkimKey(dkimKey('example.com', 's1'));
      await s().addDkimKey(dkimKey('example.com', 's2'));
      expect(await s().removeDkimKey('EXAMPLE.COM', 's1')).toBe(true);
      expect(await s().removeDkimKey('example.com', 's1')).toBe(false);
      expect(await s().getActiveDkimKey('example.com')).toBeNull();
      expect((await s().listDkimKeys('example.com')).map((k) => [k.selector, k.active])).toEqual([['s2', false]]);
      expect(await s().activateDkimKey('example.com', 's2')).toBe(true);
      expect((await s().getActiveDkimKey('example.com'))?.selector).toBe('s2');
      expect(await s().removeDkimKey('example.com', 's2')).toBe(true);
      expect(await s().listDkimKeys('example.com')).toEqual([]);
      // With every key gone, the next one is the domain's first again.
      expect((await s().addDkimKey(dkimKey('example.com', 's3'))).active).toBe(true);
    });

    it('lists all keys by domain, and nothing for an unknown domain', async () => {
      await s().addDkimKey(dkimKey('zeta.example', 'z1'));
      await s().addDkimKey(dkimKey('alpha.example', 'a1'));
      await s().addDkimKey(dkimKey('alpha.example', 'a2'));
      expect((await s().listDkimKeys()).map((k) => `${k.domain}/${k.selector}`)).toEqual([
        'alpha.example/a1',
        'alpha.example/a2',
        'zeta.example/z1',
      ]);
      expect(await s().listDkimKeys('nowhere.example')).toEqual([]);
      expect(await s().getActiveDkimKey('nowhere.example')).toBeNull();
    });
  });
}
