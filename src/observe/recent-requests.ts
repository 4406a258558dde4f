/**
 * The most recent raw requests, per project+env+service, in a fixed-size ring (default
 * 10,000 per service): `slipway requests` answers from here. In memory only: lost on
 * restart, and never more than `capacity` per service whatever the traffic.
 */
import { statusMatches, type StatusFilter } from '../core/status-filter';
import type { RequestRecord } from './request-record';

class Ring {
  private readonly items: Array<RequestRecord | undefined>;
  private next = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<RequestRecord | undefined>(capacity);
  }

  push(r: RequestRecord): void {
    this.items[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Newest first, while `visit` returns true. */
  scan(visit: (r: RequestRecord) => boolean): void {
    for (let i = 1; i <= this.count; i++) {
      const r = this.items[(this.next - i + this.capacity) % this.capacity]!;
      if (!visit(r)) return;
    }
  }
}

export interface RecentFilter {
  slowMs?: number;
  /** Only requests answered with one of these classes or codes (`--errors` is `5xx`). */
  status?: StatusFilter;
  pathPrefix?: string;
  limit: number;
}

export class RecentRequests {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`recent requests per service must be a whole number >= 1 (got ${capacity})`);
  }

  add(r: RequestRecord): void {
    const key = `${r.project}\0${r.env}\0${r.service}`;
    let ring = this.rings.get(key);
    if (!ring) this.rings.set(key, (ring = new Ring(this.capacity)));
    ring.push(r);
  }

  /** Matching requests of one service, newest first, and how many the ring holds. */
  find(service: { project: string; env: string; service: string }, f: RecentFilter): { requests: RequestRecord[]; retained: number } {
    const ring = this.rings.get(`${service.project}\0${service.env}\0${service.service}`);
    const out: RequestRecord[] = [];
    ring?.scan((r) => {
      if (f.slowMs !== undefined && r.durationMs < f.slowMs) return true;
      if (f.status !== undefined && !statusMatches(f.status, r.status)) return true;
      if (f.pathPrefix !== undefined && !r.path.startsWith(f.pathPrefix)) return true;
      out.push(r);
      return out.length < f.limit;
    });
    return { requests: out, retained: ring?.count ?? 0 };
  }
}
