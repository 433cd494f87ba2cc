import type { NewMessage, NewRecipient } from '../../src/store/index.js';

/** Build a message with sensible defaults; recipients given as addresses or full records. */
export function newMessage(
  id: string,
  recipients: (string | NewRecipient)[],
  overrides: Partial<Omit<NewMessage, 'id' | 'recipients'>> = {},
): NewMessage {
  return {
    id,
    mailFrom: 'sender@example.org',
    bodyType: '8BITMIME',
    smtputf8: false,
    dsnRet: null,
    dsnEnvid: null,
    size: 1234,
    blobRef: `blob:${id}`,
    receivedAt: 1_000,
    client: { ip: '192.0.2.1', helo: 'client.example.org' },
    recipients: recipients.map((r) => (typeof r === 'string' ? { address: r, orcpt: null, notify: null } : r)),
    ...overrides,
  };
}
