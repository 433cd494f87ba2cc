import type { CidrSet } from '../net/cidr.js';
import type { Router } from '../router/index.js';
import { isRoutingTrick, type Mailbox } from '../smtp/address.js';
import { type Reply, reply } from '../smtp/reply.js';
import { suppressedReply } from './suppression.js';

/** Who is asking to send: enough to make relay decisions. */
export interface ClientIdentity {
  ip: string;
  /** Authenticated user address, when the client used AUTH. */
  user: string | null;
}

export type RecipientVerdict =
  | { ok: true; addresses: string[]; local: boolean }
  | { ok: false; reply: Reply; reason: string };

const relayDenied = reply(550, '5.7.1', 'Relay access denied');

/**
 * The RCPT decision: local recipients must exist; anything else is relayed only for
 * authenticated clients and clients inside relay.networks. Routing tricks (`%`, `!`,
 * quoted `@`, source routes) are never honoured, so they are refused outright.
 */
export class RecipientPolicy {
  constructor(
    private readonly router: Router,
    private readonly relayNetworks: CidrSet,
    /** Where a domain-less `<Postmaster>` goes: the first local domain. */
    private readonly postmasterDomain: string,
    /** Domains we are a backup MX for (`relay.domains`): accepted from anyone, delivered to their primary. */
    private readonly backupDomains: ReadonlySet<string> = new Set(),
    /** Why an address is on the suppression list (null when it is not); checked for authenticated senders. */
    private readonly suppressed: ((address: string) => Promise<string | null>) | null = null,
  ) {}

  /** May this client relay to non-local domains? */
  mayRelay(client: ClientIdentity): boolean {
    return client.user !== null || this.relayNetworks.has(client.ip);
  }

  /** Decide one recipient. */
  async check(client: ClientIdentity, given: Mailbox): Promise<RecipientVerdict> {
    const mailbox =
      given.domain === ''
        ? { ...given, domain: this.postmasterDomain, address: `postmaster@${this.postmasterDomain}` }
        : given;
    if (client.user !== null && this.suppressed) {
      // Outgoing mail from our own users and API keys only: a suppression never blocks mail from the outside.
      const why = await this.suppressed(mailbox.address);
      if (why) return { ok: false, reply: suppressedReply(why), reason: 'suppressed' };
    }
    const local = await this.router.localDomain(mailbox.domain);
    if (isRoutingTrick(mailbox) && !(mailbox.sourceRoute.length > 0 && !local && this.mayRelay(client))) {
      return { ok: false, reply: relayDenied, reason: 'routing trick' };
    }
    if (!local) {
      if (this.backupDomains.has(mailbox.domain.toLowerCase()) && mailbox.sourceRoute.length === 0) {
        return { ok: true, addresses: [mailbox.address], local: false };
      }
      if (!this.mayRelay(client)) return { ok: false, reply: relayDenied, reason: 'relay denied' };
      return { ok: true, addresses: [mailbox.address], local: false };
    }
    const expansion = await this.router.expand(mailbox.address);
    if (expansion.ok) return { ok: true, addresses: expansion.addresses, local: true };
    if (expansion.reason === 'alias-loop') {
      return { ok: false, reply: reply(554, '5.4.6', 'Alias expansion loop detected'), reason: 'alias loop' };
    }
    return { ok: false, reply: reply(550, '5.1.1', 'User unknown'), reason: 'unknown user' };
  }
}
