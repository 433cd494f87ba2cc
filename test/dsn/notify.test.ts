// RFC 3461 NOTIFY semantics, as an explicit truth table rather than a restatement of the code.
import { describe, expect, it } from 'vitest';
import { type DsnNotifyValue, dsnKind, shouldSendDsn } from '../../src/dsn/index.js';

// notify, then whether a failure, a delay and a success DSN is sent.
const TABLE: [DsnNotifyValue[] | null, boolean, boolean, boolean][] = [
  [null, true, true, false],
  [[], true, true, false],
  [['NEVER'], false, false, false],
  [['SUCCESS'], false, false, true],
  [['FAILURE'], true, false, false],
  [['DELAY'], false, true, false],
  [['SUCCESS', 'FAILURE'], true, false, true],
  [['SUCCESS', 'DELAY'], false, true, true],
  [['FAILURE', 'DELAY'], true, true, false],
  [['DELAY', 'SUCCESS', 'FAILURE'], true, true, true],
];

describe('shouldSendDsn', () => {
  it.each(TABLE)('NOTIFY=%j → failure %s, delay %s, success %s', (notify, failure, delay, success) => {
    for (const from of ['alice@example.com', 'MAILER-DAEMON@example.org']) {
      expect(shouldSendDsn('failure', notify, from)).toBe(failure);
      expect(shouldSendDsn('delay', notify, from)).toBe(delay);
      expect(shouldSendDsn('success', notify, from)).toBe(success);
    }
  });

  it('never sends anything to the null reverse-path, whatever NOTIFY says', () => {
    for (const [notify] of TABLE) {
      for (const from of ['', '<>', ' <> ']) {
        for (const kind of ['failure', 'delay', 'success'] as const) {
          expect(shouldSendDsn(kind, notify, from)).toBe(false);
        }
      }
    }
  });

  it('maps each action to its kind', () => {
    expect(dsnKind('failed')).toBe('failure');
    expect(dsnKind('delayed')).toBe('delay');
    for (const a of ['delivered', 'relayed', 'expanded'] as const) expect(dsnKind(a)).toBe('success');
  });
});
