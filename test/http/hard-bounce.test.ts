import { describe, expect, it } from 'vitest';
import { isHardBounce } from '../../src/policy/index.js';

describe('what counts as a hard bounce', () => {
  it('is a remote server saying the mailbox does not exist or is disabled', () => {
    const mx = 'mx.remote.test [127.0.0.2]';
    expect(isHardBounce('550 5.1.1 User unknown', mx)).toBe(true);
    expect(isHardBounce('553 5.1.3 Bad address', mx)).toBe(true);
    expect(isHardBounce('550 5.2.1 Mailbox disabled', mx)).toBe(true);
    expect(isHardBounce('550 No such user', mx)).toBe(true);
    expect(isHardBounce('554 5.7.1 Message rejected as spam', mx)).toBe(false);
    expect(isHardBounce('552 5.2.2 Mailbox full', mx)).toBe(false);
    expect(isHardBounce('451 4.3.0 Try later', mx)).toBe(false);
    // Bounces we made ourselves (no MX, DNS) carry no remote server.
    expect(isHardBounce('550 5.1.2 Domain has no mail server', undefined)).toBe(false);
  });
});
