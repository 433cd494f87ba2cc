/** The retry policy of webhook deliveries (config `http.webhooks`). */
export interface RetryPolicy {
  /** Delays between attempts; the last repeats. */
  retry: number[];
  /** No attempt is scheduled later than this after the first. */
  maxAge: number;
}

/**
 * The delay before the next attempt after `attempts` failed ones, or null when the delivery has
 * used up its time (the sum of the delays would pass maxAge).
 */
export function nextDelay(attempts: number, policy: RetryPolicy): number | null {
  const at = (i: number) => policy.retry[Math.min(i, policy.retry.length - 1)] as number;
  let elapsed = 0;
  for (let i = 0; i < attempts; i++) elapsed += at(i);
  return elapsed > policy.maxAge ? null : at(attempts - 1);
}
