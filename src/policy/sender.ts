import { splitAddress } from '../router/index.js';
import { type Reply, reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';

export type SenderVerdict = { ok: true } | { ok: false; reply: Reply; reason: string };

const notOwned = reply(553, '5.7.1', 'Sender address not owned by user');
const unconfigured = reply(550, '5.7.1', 'Unconfigured sending domain');

/**
 * Which addresses an authenticated user may send as, in the envelope and in From:
 * its own address (with any +tag), aliases that deliver to it, and addresses or whole
 * domains granted with `mailroom user allow-sender`.
 */
export class SenderPolicy {
  constructor(
    private readonly store: Store,
    private readonly opts: {
      requireLocalSender: boolean;
      /** Domains whose addresses anyone authenticated may use (senderOwnership: false). */
      openDomains: ReadonlySet<string>;
    },
  ) {}

  /** May `user` send as `sender` ('' is the null sender, which carries no identity)? */
  async check(user: string, sender: string): Promise<SenderVerdict> {
    if (sender === '') return { ok: true };
    const { local, domain } = splitAddress(sender);
    if (!(await this.store.getDomain(domain))) {
      if (this.opts.requireLocalSender)
        return { ok: false, reply: unconfigured, reason: `domain ${domain} is not local` };
    } else if (this.opts.openDomains.has(domain)) {
      return { ok: true };
    }
    if (await this.owns(user, local, domain)) return { ok: true };
    return { ok: false, reply: notOwned, reason: `${user} does not own ${sender}` };
  }

  private async owns(user: string, local: string, domain: string): Promise<boolean> {
    const me = user.toLowerCase();
    const address = `${local}@${domain}`.toLowerCase();
    const base = `${local.split('+')[0]}@${domain}`.toLowerCase();
    if (address === me || base === me) return true;
    const grants = await this.store.listSenderGrants(user);
    if (grants.includes(address) || grants.includes(base) || grants.includes(`@${domain}`)) return true;
    // An alias that delivers to the user is the user's too (not a catch-all: that would be every address).
    for (const source of new Set([address, base])) {
      const alias = await this.store.getAlias(source);
      if (alias?.destinations.some((d) => d.toLowerCase() === me)) return true;
    }
    return false;
  }
}
