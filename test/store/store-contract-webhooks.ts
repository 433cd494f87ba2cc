/** Contract cases for webhook endpoints and their delivery log. */
import { describe, expect, it } from 'vitest';
import type { Store, WebhookDelivery, WebhookEndpoint } from '../../src/store/index.js';

const endpoint = (id: string, extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id,
  url: `http://127.0.0.1:9/${id}`,
  events: ['delivered', 'bounced'],
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  enabled: true,
  failureCount: 0,
  failingSince: null,
  createdAt: 1_000,
  ...extra,
});

const delivery = (id: string, endpointId: string, extra: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id,
  endpointId,
  payload: `{"id":"${id}"}`,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: 1_000,
  lastStatus: null,
  lastError: null,
  createdAt: 1_000,
  updatedAt: 1_000,
  ...extra,
});

/** Webhook contract cases; `s` returns the fresh store of the running test. */
export function describeWebhookContract(s: () => Store): void {
  describe('webhooks', () => {
    it('adds, lists, finds, updates health and deletes endpoints with their deliveries', async () => {
      await s().addWebhook(endpoint('wh_a'));
      await s().addWebhook(endpoint('wh_b', { events: ['*'], createdAt: 2_000 }));
      expect((await s().listWebhooks()).map((e) => e.id)).toEqual(['wh_a', 'wh_b']);
      expect((await s().getWebhook('wh_b'))?.events).toEqual(['*']);
      expect(await s().getWebhook('wh_nope')).toBeNull();
      await s().setWebhookHealth('wh_a', { enabled: false, failureCount: 3, failingSince: 5_000 });
      expect(await s().getWebhook('wh_a')).toMatchObject({ enabled: false, failureCount: 3, failingSince: 5_000 });
      await s().addWebhookDeliveries([delivery('msg_1', 'wh_a')]);
      expect(await s().deleteWebhook('wh_a')).toBe(true);
      expect(await s().deleteWebhook('wh_a')).toBe(false);
      expect(await s().getWebhookDelivery('msg_1')).toBeNull();
    });

    it('hands out due pending deliveries of enabled endpoints, oldest first', async () => {
      await s().addWebhook(endpoint('wh_a'));
      await s().addWebhook(endpoint('wh_off', { enabled: false }));
      await s().addWebhookDeliveries([
        delivery('msg_2', 'wh_a', { nextAttemptAt: 2_000 }),
        delivery('msg_1', 'wh_a', { nextAttemptAt: 1_000 }),
        delivery('msg_3', 'wh_a', { nextAttemptAt: 9_000 }),
        delivery('msg_4', 'wh_a', { status: 'delivered', nextAttemptAt: null }),
        delivery('msg_5', 'wh_off'),
      ]);
      expect((await s().dueWebhookDeliveries(5_000, 10)).map((d) => d.id)).toEqual(['msg_1', 'msg_2']);
      expect((await s().dueWebhookDeliveries(5_000, 1)).map((d) => d.id)).toEqual(['msg_1']);
      await s().updateWebhookDelivery('msg_1', {
        status: 'pending',
        attempts: 1,
        nextAttemptAt: 7_000,
        lastStatus: 500,
        lastError: 'HTTP 500',
        updatedAt: 5_000,
      });
      expect((await s().dueWebhookDeliveries(5_000, 10)).map((d) => d.id)).toEqual(['msg_2']);
      expect(await s().getWebhookDelivery('msg_1')).toMatchObject({
        attempts: 1,
        lastStatus: 500,
        lastError: 'HTTP 500',
      });
    });

    it('lists the log newest first with a status filter and a cursor, and requeues failed deliveries', async () => {
      await s().addWebhook(endpoint('wh_a'));
      await s().addWebhook(endpoint('wh_b'));
      await s().addWebhookDeliveries([
        delivery('msg_1', 'wh_a', { status: 'failed', attempts: 9, nextAttemptAt: null }),
        delivery('msg_2', 'wh_a', { status: 'delivered', nextAttemptAt: null }),
        delivery('msg_3', 'wh_a', { status: 'failed', attempts: 9, nextAttemptAt: null }),
        delivery('msg_4', 'wh_b', { status: 'failed', nextAttemptAt: null }),
      ]);
      const log = await s().listWebhookDeliveries('wh_a', { limit: 2 });
      expect(log.map((d) => d.id)).toEqual(['msg_3', 'msg_2']);
      expect((await s().listWebhookDeliveries('wh_a', { limit: 2, before: 'msg_2' })).map((d) => d.id)).toEqual([
        'msg_1',
      ]);
      expect((await s().listWebhookDeliveries('wh_a', { limit: 9, status: 'failed' })).map((d) => d.id)).toEqual([
        'msg_3',
        'msg_1',
      ]);
      expect(await s().requeueWebhookDeliveries('wh_a', 'msg_1', 8_000)).toBe(1);
      expect(await s().getWebhookDelivery('msg_1')).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: 8_000,
      });
      expect(await s().requeueWebhookDeliveries('wh_a', null, 8_000)).toBe(1);
      expect(await s().requeueWebhookDeliveries('wh_a', null, 8_000)).toBe(0);
      expect((await s().getWebhookDelivery('msg_4'))?.status).toBe('failed');
    });
  });
}
