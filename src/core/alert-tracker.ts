/**
 * One alert's hysteresis, pure: a condition must hold for `forMs` before the alert fires, and be
 * gone for `clearForMs` before it resolves, so a value hovering at the threshold neither fires
 * at its first crossing nor flaps. An observation may also be unknown (no figures: too few
 * requests, no sample yet): it moves neither clock.
 */

export interface AlertTracker {
  firing: boolean;
  /** Since when the condition has held without a break (epoch ms); null: it does not hold. */
  breachedSince: number | null;
  /** Firing: since when the condition has been gone (epoch ms); null: it holds. */
  clearSince: number | null;
}

export const IDLE_TRACKER: AlertTracker = { firing: false, breachedSince: null, clearSince: null };

export type AlertTransition = 'fire' | 'resolve' | null;

/** `breached`: the condition now (null: unknown). */
export function trackAlert(t: AlertTracker, breached: boolean | null, now: number, forMs: number, clearForMs: number): { tracker: AlertTracker; transition: AlertTransition } {
  if (breached === null) return { tracker: t, transition: null };
  if (breached) {
    const since = t.breachedSince ?? now;
    if (!t.firing && now - since >= forMs) return { tracker: { firing: true, breachedSince: since, clearSince: null }, transition: 'fire' };
    return { tracker: { ...t, breachedSince: since, clearSince: null }, transition: null };
  }
  if (!t.firing) return { tracker: IDLE_TRACKER, transition: null };
  const clearSince = t.clearSince ?? now;
  if (now - clearSince >= clearForMs) return { tracker: IDLE_TRACKER, transition: 'resolve' };
  return { tracker: { firing: true, breachedSince: null, clearSince }, transition: null };
}
