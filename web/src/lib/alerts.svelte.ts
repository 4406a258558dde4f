/**
 * The firing alerts behind the navigation's badge ("Alerts 2"): one GET /api/v1/alerts every
 * 15 s while signed in. The alerts page publishes what it loads (the badge follows a silence
 * at once), and a poll right after one of those is skipped: the page's answer is as fresh.
 */
import { api } from './api';
import { silencedNow, type AlertsOverview } from '../pages/alerts/alert-view';

export const ALERTS_POLL_MS = 15_000;

/** Alerts firing, and how many of them no silence covers (the badge is red then). */
export const firingAlerts = $state<{ count: number; loud: number }>({ count: 0, loud: 0 });
/** When the last answer came (plain, not state: an effect that polls must not depend on it). */
let publishedAt = 0;

/** Takes an answer of GET /api/v1/alerts (with or without all=true). */
export function publishAlerts(o: AlertsOverview): void {
  const now = Date.now();
  const firing = o.alerts.filter((a) => a.state === 'firing');
  firingAlerts.count = Math.max(o.firing, firing.length);
  firingAlerts.loud = firing.filter((a) => !silencedNow(a, o.silences, now)).length;
  publishedAt = now;
}

async function poll(): Promise<void> {
  if (Date.now() - publishedAt < ALERTS_POLL_MS - 1000) return;
  try {
    publishAlerts(await api.alerts());
  } catch {
    // The badge keeps its last count; the pages report a lost server or session themselves.
  }
}

/** Starts polling (at once, then every 15 s); returns the stop. */
export function pollAlerts(): () => void {
  publishedAt = 0;
  void poll();
  const timer = setInterval(() => void poll(), ALERTS_POLL_MS);
  return () => clearInterval(timer);
}
