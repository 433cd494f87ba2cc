/**
 * When to try again after `attempts` tries: the retry schedule's entry for this attempt, the
 * last entry repeating (default 5m, 10m, 20m, 40m, then hourly).
 */
export function nextAttempt(now: number, attempts: number, schedule: readonly number[]): number {
  const i = Math.min(Math.max(attempts, 1), schedule.length) - 1;
  return now + (schedule[i] ?? 3_600_000);
}
