/**
 * The Store contract suite. Every implementation runs this same file through
 * describeStoreContract; it only uses the Store interface, so a postgres store passes or
 * fails it exactly as sqlite does. makeStore must return a fresh, empty, migrated store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { StoreConflictError } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';
import { describeApiContract } from './store-contract-api.js';
import { describeAuthContract } from './store-contract-auth.js';
import { describeMailboxContract } from './store-contract-mailbox.js';
import { describeQueueContract, describeQueueProperties } from './store-contract-queue.js';
import { describeQueueToolsContract } from './store-contract-queue-tools.js';
import { describeTrustContract } from './store-contract-trust.js';
import { describeWebhookContract } from './store-contract-webhooks.js';

/** Register the whole contract suite for one Store implementation. */
export function describeStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });
    const s = () => store;

    describeDirectory(s);
    describeAuthContract(s);
    describeMessages(s);
    describeQueueContract(s);
    describeQueueToolsContract(s);
    describeMailboxContract(s);
    describeEvents(s);
    describeTrustContract(s);
    describeApiContract(s);
    describeWebhookContract(s);
    describeQueueProperties(makeStore);
  });
}

function describeDirectory(s: () => Store): void {
  describe('domains', () => {
    it('adds, lists, looks up case-insensitively and removes', async () => {
      const d = await s().addDomain('Example.COM', 'mailbox');
      expect(d.name).toBe('example.com');
      expect(d.transport).toBe('mailbox');
      expect(typeof d.createdAt).toBe('number');
      await s().addDomain('relay.example', 'relay:smarthost.example:587');
      expect(await s().getDomain('EXAMPLE.com')).toEqual(d);
      expect((await s().getDomain('relay.example'))?.transport).toBe('relay:smarthost.example:587');
      expect((await s().listDomains()).map((x) => x.name)).toEqual(['example.com', 'relay.example']);
      expect(await s().removeDomain('EXAMPLE.COM')).toBe(true);
      expect(await s().removeDomain('example.com')).toBe(false);
      expect(await s().getDomain('example.com')).toBeNull();
    });

    it('refuses a duplicate domain in any case', async () => {
      await s().addDomain('example.com', 'mailbox');
      await expect(s().addDomain('EXAMPLE.com', 'discard')).rejects.toBeInstanceOf(StoreConflictError);
      expect((await s().getDomain('example.com'))?.transport).toBe('mailbox');
    });
  });

  describe('users', () => {
    it('keeps the local part as given, lower-cases the domain, finds any case', async () => {
      const u = await s().addUser('John.Doe@Example.COM', 'scrypt$hash1');
      expect(u).toMatchObject({
        address: 'John.Doe@example.com',
        passwordHash: 'scrypt$hash1',
        disabled: false,
        quotaBytes: null,
      });
      expect(await s().getUser('john.doe@EXAMPLE.COM')).toEqual(u);
      expect(await s().getUser('JOHN.DOE@example.com')).toEqual(u);
      expect(await s().getUserById(u.id)).toEqual(u);
      expect(await s().getUserById(u.id + 1000)).toBeNull();
      expect(await s().getUser('jane@example.com')).toBeNull();
      expect(await s().getUser('not-an-address')).toBeNull();
    });

    it('refuses the same address in another case', async () => {
      await s().addUser('alice@example.com', 'h');
      await expect(s().addUser('ALICE@Example.com', 'h2')).rejects.toBeInstanceOf(StoreConflictError);
    });

    it('stores a quota', async () => {
      const u = await s().addUser('q@example.com', 'h', { quotaBytes: 1_000_000 });
      expect(u.quotaBytes).toBe(1_000_000);
      expect((await s().getUser('q@example.com'))?.quotaBytes).toBe(1_000_000);
    });

    it('lists by domain, changes passwords and removes', async () => {
      await s().addUser('b@example.com', 'h');
      await s().addUser('a@example.com', 'h');
      await s().addUser('c@other.example', 'h');
      expect((await s().listUsers()).map((u) => u.address)).toEqual([
        'a@example.com',
        'b@example.com',
        'c@other.example',
      ]);
      expect((await s().listUsers('Example.com')).map((u) => u.address)).toEqual(['a@example.com', 'b@example.com']);
      expect(await s().listUsers('nowhere.example')).toEqual([]);
      expect(await s().setPassword('A@EXAMPLE.COM', 'new')).toBe(true);
      expect((await s().getUser('a@example.com'))?.passwordHash).toBe('new');
      expect(await s().setPassword('nobody@example.com', 'new')).toBe(false);
      expect(await s().removeUser('B@example.com')).toBe(true);
      expect(await s().removeUser('b@example.com')).toBe(false);
      expect(await s().getUser('b@example.com')).toBeNull();
    });

    it('removes a user together with their mailboxes', async () => {
      const u = await s().addUser('gone@example.com', 'h');
      await s().ensureMailbox(u.id, 'INBOX');
      await s().removeUser('gone@example.com');
      expect(await s().listMailboxes(u.id)).toEqual([]);
    });
  });

  describe('aliases', () => {
    it('keys by lower-case source and supports catch-all', async () => {
      const a = await s().addAlias('Postmaster@Example.COM', ['admin@example.com']);
      expect(a.source).toBe('postmaster@example.com');
      expect(a.destinations).toEqual(['admin@example.com']);
      await s().addAlias('@example.com', ['catchall@example.com']);
      expect((await s().getAlias('POSTMASTER@example.com'))?.destinations).toEqual(['admin@example.com']);
      expect((await s().getAlias('@EXAMPLE.com'))?.destinations).toEqual(['catchall@example.com']);
      expect(await s().getAlias('nobody@example.com')).toBeNull();
    });

    it('adds destinations to an existing alias without duplicates', async () => {
      await s().addAlias('team@example.com', ['a@example.com', 'b@example.com']);
      const a = await s().addAlias('team@example.com', ['B@example.com', 'c@example.com']);
      expect(a.destinations).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
      expect((await s().getAlias('team@example.com'))?.destinations).toEqual(a.destinations);
    });

    it('lists by domain', async () => {
      await s().addAlias('x@example.com', ['a@example.com']);
      await s().addAlias('@example.com', ['a@example.com']);
      await s().addAlias('y@other.example', ['a@example.com']);
      expect((await s().listAliases()).map((a) => a.source)).toHaveLength(3);
      expect((await s().listAliases('EXAMPLE.COM')).map((a) => a.source).sort()).toEqual([
        '@example.com',
        'x@example.com',
      ]);
    });

    it('removes some destinations, then the alias when none are left', async () => {
      await s().addAlias('team@example.com', ['a@example.com', 'b@example.com', 'c@example.com']);
      expect(await s().removeAlias('TEAM@example.com', ['A@example.com', 'c@example.com'])).toBe(true);
      expect((await s().getAlias('team@example.com'))?.destinations).toEqual(['b@example.com']);
      expect(await s().removeAlias('team@example.com', ['zzz@example.com'])).toBe(false);
      expect(await s().removeAlias('team@example.com', ['b@example.com'])).toBe(true);
      expect(await s().getAlias('team@example.com')).toBeNull();
      expect(await s().removeAlias('team@example.com')).toBe(false);
    });

    it('removes a whole alias', async () => {
      await s().addAlias('@example.com', ['a@example.com', 'b@example.com']);
      expect(await s().removeAlias('@example.com')).toBe(true);
      expect(await s().getAlias('@example.com')).toBeNull();
    });
  });
}

function describeMessages(s: () => Store): void {
  describe('commitMessages', () => {
    it('commits several messages with their recipients, queued and due at receipt', async () => {
      const m1 = newMessage('M1', ['a@example.com', 'b@example.com'], {
        mailFrom: '',
        bodyType: '7BIT',
        smtputf8: true,
        dsnRet: 'HDRS',
        dsnEnvid: 'env-1',
        receivedAt: 5_000,
        client: { ip: '2001:db8::1', tls: { version: 'TLSv1.3' }, auth: null },
      });
      const m2 = newMessage('M2', [
        { address: 'c@example.com', orcpt: 'rfc822;C@example.com', notify: ['SUCCESS', 'FAILURE'] },
        { address: 'd@example.com', orcpt: null, notify: ['NEVER'] },
      ]);
      const m3 = newMessage('M3', ['e@example.com'], { bodyType: 'BINARYMIME' });
      await s().commitMessages([m1, m2, m3]);

      const { recipients: _r, ...env1 } = m1;
      expect(await s().getMessage('M1')).toEqual(env1);
      expect((await s().getMessage('M3'))?.bodyType).toBe('BINARYMIME');

      const r1 = await s().getRecipients('M1');
      expect(r1.map((r) => r.address)).toEqual(['a@example.com', 'b@example.com']);
      for (const r of r1) {
        expect(r).toMatchObject({
          messageId: 'M1',
          state: 'queued',
          attempts: 0,
          nextAttemptAt: 5_000,
          lastReply: null,
          leaseOwner: null,
          leaseUntil: null,
          orcpt: null,
          notify: null,
        });
      }
      const r2 = await s().getRecipients('M2');
      expect(r2.map((r) => [r.orcpt, r.notify])).toEqual([
        ['rfc822;C@example.com', ['SUCCESS', 'FAILURE']],
        [null, ['NEVER']],
      ]);
      expect(new Set([...r1, ...r2].map((r) => r.id)).size).toBe(4);
    });

    it('is all-or-nothing: a duplicate id fails the whole batch', async () => {
      await s().commitMessages([newMessage('DUP', ['a@example.com'])]);
      await expect(
        s().commitMessages([newMessage('NEW1', ['a@example.com']), newMessage('DUP', ['b@example.com'])]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect(await s().getMessage('NEW1')).toBeNull();
      expect(await s().getRecipients('NEW1')).toEqual([]);
      expect(await s().getRecipients('DUP')).toHaveLength(1);
    });

    it('accepts an empty batch and answers null/empty for unknown ids', async () => {
      await s().commitMessages([]);
      expect(await s().getMessage('nope')).toBeNull();
      expect(await s().getRecipients('nope')).toEqual([]);
      expect(await s().deleteMessage('nope')).toBeNull();
    });
  });

  describe('finished messages and deletion', () => {
    it('lists only messages whose recipients are all final, oldest first', async () => {
      await s().commitMessages([
        newMessage('NEWER', ['a@example.com'], { receivedAt: 200 }),
        newMessage('OLDER', ['a@example.com', 'b@example.com'], { receivedAt: 100 }),
        newMessage('BUSY', ['a@example.com', 'b@example.com'], { receivedAt: 50 }),
      ]);
      const claimed = await s().claimDue('n1', 10, 1_000, 60_000);
      const byMsg = (id: string) => claimed.filter((r) => r.messageId === id);
      await s().completeDeliveries(
        [
          ...byMsg('NEWER').map((r) => ({
            recipientId: r.id,
            leaseOwner: 'n1',
            state: 'delivered' as const,
            reply: '250',
          })),
          { recipientId: byMsg('OLDER')[0]!.id, leaseOwner: 'n1', state: 'bounced', reply: '550' },
          { recipientId: byMsg('OLDER')[1]!.id, leaseOwner: 'n1', state: 'expired', reply: '451' },
          { recipientId: byMsg('BUSY')[0]!.id, leaseOwner: 'n1', state: 'delivered', reply: '250' },
          { recipientId: byMsg('BUSY')[1]!.id, leaseOwner: 'n1', state: 'deferred', reply: '451', nextAttemptAt: 9e9 },
        ],
        1_000,
      );
      expect(await s().listFinishedMessages(10)).toEqual(['OLDER', 'NEWER']);
      expect(await s().listFinishedMessages(1)).toEqual(['OLDER']);
    });

    it('deletes only a finished message, returning its blob ref', async () => {
      await s().commitMessages([newMessage('DEL', ['a@example.com', 'b@example.com'], { blobRef: 'fs:ab/DEL' })]);
      expect(await s().deleteMessage('DEL')).toBeNull();
      expect(await s().getMessage('DEL')).not.toBeNull();
      expect(await s().blobInUse('fs:ab/DEL')).toBe(true);

      const [a, b] = await s().claimDue('n1', 10, 1_000, 60_000);
      await s().completeDeliveries([{ recipientId: a!.id, leaseOwner: 'n1', state: 'delivered', reply: '250' }], 1_001);
      expect(await s().deleteMessage('DEL')).toBeNull();
      await s().completeDeliveries([{ recipientId: b!.id, leaseOwner: 'n1', state: 'bounced', reply: '550' }], 1_002);

      expect(await s().deleteMessage('DEL')).toBe('fs:ab/DEL');
      expect(await s().getMessage('DEL')).toBeNull();
      expect(await s().getRecipients('DEL')).toEqual([]);
      expect(await s().blobInUse('fs:ab/DEL')).toBe(false);
      expect(await s().deleteMessage('DEL')).toBeNull();
    });

    it('deletes finished messages in a batch, skipping unfinished and unknown ones', async () => {
      await s().commitMessages([
        newMessage('D1', ['a@example.com'], { blobRef: 'fs:d1/D1' }),
        newMessage('D2', ['b@example.com'], { blobRef: 'fs:d2/D2' }),
        newMessage('D3', ['c@example.com'], { blobRef: 'fs:d3/D3' }),
      ]);
      const claimed = await s().claimDue('n1', 10, 1_000, 60_000);
      const done = claimed.filter((r) => r.messageId !== 'D2');
      await s().completeDeliveries(
        done.map((r) => ({ recipientId: r.id, leaseOwner: 'n1', state: 'delivered' as const, reply: '250' })),
        1_001,
      );
      const deleted = await s().deleteMessages(['D1', 'D2', 'D3', 'NOPE']);
      expect(deleted).toEqual([
        { id: 'D1', blobRef: 'fs:d1/D1' },
        { id: 'D3', blobRef: 'fs:d3/D3' },
      ]);
      expect(await s().getMessage('D2')).not.toBeNull();
      expect(await s().getMessage('D1')).toBeNull();
      expect(await s().deleteMessages([])).toEqual([]);
    });

    it('keeps an inline body with its envelope and deletes it on request', async () => {
      const body = Buffer.from('Subject: inline\r\n\r\nhello\r\n');
      await s().commitMessages([{ ...newMessage('IN', ['a@example.com'], { blobRef: 'db:IN' }), body }]);
      expect(await s().readInlineBody('IN')).toEqual(body);
      expect(await s().blobInUse('db:IN')).toBe(true);
      expect(await s().deleteInlineBody('IN')).toBe(true);
      expect(await s().readInlineBody('IN')).toBeNull();
      expect(await s().deleteInlineBody('IN')).toBe(false);
      await expect(
        s().commitMessages([{ ...newMessage('BAD', ['a@example.com'], { blobRef: 'fs:ab/BAD' }), body }]),
      ).rejects.toThrow();
      expect(await s().getMessage('BAD')).toBeNull();
    });

    it('removes an inline body with its message unless a mailbox shares it', async () => {
      const body = Buffer.from('Subject: inline\r\n\r\nhello\r\n');
      await s().commitMessages([
        { ...newMessage('IA', ['a@example.com'], { blobRef: 'db:IA' }), body },
        { ...newMessage('IB', ['b@example.com'], { blobRef: 'db:IB' }), body },
      ]);
      const u = await s().addUser('keeper@example.com', 'h');
      const inbox = await s().ensureMailbox(u.id, 'INBOX');
      await s().appendMailboxMessage(inbox.id, { blobRef: 'db:IB', size: body.length, flags: [], internalDate: 1 });
      const claimed = await s().claimDue('n1', 10, 1_000, 60_000);
      await s().completeDeliveries(
        claimed.map((r) => ({ recipientId: r.id, leaseOwner: 'n1', state: 'delivered' as const, reply: '250' })),
        1_001,
      );
      const deleted = await s().deleteMessages(['IA', 'IB']);
      expect(deleted).toEqual([
        { id: 'IA', blobRef: 'db:IA', blobRemoved: true },
        { id: 'IB', blobRef: 'db:IB' },
      ]);
      expect(await s().readInlineBody('IA')).toBeNull();
      expect(await s().readInlineBody('IB')).toEqual(body);
    });
  });
}

function describeEvents(s: () => Store): void {
  describe('events', () => {
    it('appends a batch and lists a message timeline in insertion order', async () => {
      await s().appendEvents([
        { at: 30, messageId: 'M1', type: 'received', detail: { size: 10, client: { ip: '192.0.2.1' } } },
        { at: 20, messageId: 'M2', type: 'received' },
        { at: 10, messageId: 'M1', recipient: 'a@example.com', type: 'queued' },
        { at: 40, messageId: null, type: 'rejected', detail: { reason: 'relay' } },
      ]);
      await s().appendEvents([{ at: 50, messageId: 'M1', recipient: 'a@example.com', type: 'delivered' }]);
      await s().appendEvents([]);
      const ev = await s().listEvents('M1');
      expect(ev.map((e) => [e.type, e.at, e.recipient])).toEqual([
        ['received', 30, null],
        ['queued', 10, 'a@example.com'],
        ['delivered', 50, 'a@example.com'],
      ]);
      expect(ev[0]!.detail).toEqual({ size: 10, client: { ip: '192.0.2.1' } });
      expect(ev[1]!.detail).toEqual({});
      expect(ev[0]!.messageId).toBe('M1');
      expect(ev[0]!.id).toBeLessThan(ev[1]!.id);
      expect(ev[1]!.id).toBeLessThan(ev[2]!.id);
      expect(await s().listEvents('M2')).toHaveLength(1);
      expect(await s().listEvents('none')).toEqual([]);
    });

    it('records the received event in the same commit as the message', async () => {
      await s().commitMessages([newMessage('EV', ['a@example.com', 'b@example.com'], { receivedAt: 7_000, size: 42 })]);
      const [ev, ...rest] = await s().listEvents('EV');
      expect(rest).toEqual([]);
      expect(ev).toMatchObject({ type: 'received', at: 7_000, messageId: 'EV', recipient: null });
      expect(ev!.detail).toMatchObject({
        from: 'sender@example.org',
        recipients: ['a@example.com', 'b@example.com'],
        size: 42,
        ip: '192.0.2.1',
      });
    });
  });
}
