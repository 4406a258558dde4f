/**
 * Failed authentication attempts (bad passwords, bad tokens, calls without a token) per
 * client IP in a sliding window: after `max` failures
 * within `windowMs` the IP gets 429 until the oldest failure ages out. Successful requests
 * from other IPs are unaffected. In memory: a restart forgets (acceptable for one process).
 */
import { SlipwayError } from '../core/errors';

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Throws SLW_RATE_LIMITED when the IP has used up its failures. */
  check(ip: string): void {
    const recent = this.recent(ip);
    if (recent.length >= this.max) {
      const retryS = Math.max(1, Math.ceil((recent[0]! + this.windowMs - Date.now()) / 1000));
      throw new SlipwayError('SLW_RATE_LIMITED', `too many failed sign-ins or bad or missing tokens from ${ip}; retry in ${retryS} s`);
    }
  }

  fail(ip: string): void {
    const recent = this.recent(ip);
    recent.push(Date.now());
    this.failures.set(ip, recent);
    if (this.failures.size > 10_000) this.sweep();
  }

  private recent(ip: string): number[] {
    const cutoff = Date.now() - this.windowMs;
    return (this.failures.get(ip) ?? []).filter((t) => t > cutoff);
  }

  private sweep(): void {
    for (const ip of [...this.failures.keys()]) if (this.recent(ip).length === 0) this.failures.delete(ip);
  }
}
