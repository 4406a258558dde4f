/**
 * A bounded set of route templates per service: the first `max` distinct routes seen (since
 * the control plane started) are kept as themselves, later new ones are counted as `other`.
 * Without a bound, a client probing random paths (`/wp-login.php`, `/.env`…) would create a
 * series per path in the store and in every query.
 */
export const OTHER_ROUTE = 'other';

export class RouteLimiter {
  private readonly routes = new Map<string, Set<string>>();

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`route limit must be a whole number >= 1 (got ${max})`);
  }

  /** `route`, or `other` when the service already has `max` other routes. */
  admit(serviceKey: string, route: string): string {
    let known = this.routes.get(serviceKey);
    if (!known) this.routes.set(serviceKey, (known = new Set()));
    if (known.has(route)) return route;
    if (known.size >= this.max) return OTHER_ROUTE;
    known.add(route);
    return route;
  }
}
