import type { DeliveryOutcome, Transport } from './types.js';

/** Accepts and drops: for domains whose mail nobody reads (and for benchmarks). */
export class DiscardTransport implements Transport {
  readonly name = 'discard';

  async deliver(): Promise<DeliveryOutcome> {
    return { status: 'delivered', reply: '250 2.0.0 Discarded', idempotent: true };
  }
}

/** A transport this version cannot run yet: mail waits in the queue instead of being lost. */
export class UnavailableTransport implements Transport {
  constructor(
    readonly name: string,
    private readonly why: string,
  ) {}

  async deliver(): Promise<DeliveryOutcome> {
    return { status: 'deferred', reply: `451 4.3.2 ${this.why}` };
  }
}
