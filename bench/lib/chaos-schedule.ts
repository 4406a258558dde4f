/**
 * The chaos bench's fault schedule: every fault kind `repeat` times, in a seeded random order,
 * each at a seeded random moment of its own time slot (so a fault has the rest of its slot to
 * recover before the next one). Pure: the same flags and seed give the same schedule.
 */

export const FAULT_KINDS = ['replica', 'cp-idle', 'cp-deploy', 'edge-worker', 'edge-all', 'dockerd'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_LABELS: Record<FaultKind, string> = {
  replica: 'replica SIGKILLed (docker kill)',
  'cp-idle': 'control plane SIGKILLed, idle',
  'cp-deploy': 'control plane SIGKILLed mid-deploy',
  'edge-worker': "edge's worker SIGKILLed",
  'edge-all': "edge's master and workers SIGKILLed",
  dockerd: 'dockerd restarted (SIGTERM, start)',
};

export interface PlannedFault {
  /** 1-based, in firing order. */
  n: number;
  kind: FaultKind;
  /** When it fires, from the start of the measured run. */
  atMs: number;
  /** The deploy started during the fault: this long after it (cp-deploy: the kill comes this long after the deploy started). */
  deployDelayMs: number;
  /** A number in [0, 1) that picks the victim (which replica, which worker). */
  pick: number;
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  repeat: number;
  seconds: number;
  seed: number;
  /** Traffic before the first slot starts (connections warm, nothing injected yet). */
  warmupMs?: number;
  /** Shortest slot accepted: a fault and its recovery, with a deploy, take about this long. */
  minSlotMs?: number;
}

/** Earliest point of a slot's span where its fault may fire (a share of the slot): the rest is for recovery. */
const FIRE_SPAN = 0.4;
/** A deploy during the fault starts within this long of it. */
const DEPLOY_DELAY_SPAN_MS = 2000;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function planSchedule(opts: ScheduleOptions): PlannedFault[] {
  const warmupMs = opts.warmupMs ?? 5000;
  const minSlotMs = opts.minSlotMs ?? 15_000;
  if (opts.kinds.length === 0) throw new Error('--kinds: expected at least one fault kind');
  const faults: FaultKind[] = [];
  for (let r = 0; r < opts.repeat; r++) faults.push(...opts.kinds);
  const slotMs = (opts.seconds * 1000 - warmupMs) / faults.length;
  if (slotMs < minSlotMs) {
    const needed = Math.ceil((warmupMs + minSlotMs * faults.length) / 1000);
    throw new Error(`--seconds: ${opts.seconds} s leaves ${Math.floor(slotMs / 100) / 10} s per fault for ${faults.length} faults (--kinds × --repeat); expected at least ${needed}`);
  }
  const random = seededRandom(opts.seed);
  // Fisher-Yates: the order of kinds is random too, so no kind always follows another.
  for (let i = faults.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j]!, faults[i]!];
  }
  return faults.map((kind, i) => ({
    n: i + 1,
    kind,
    atMs: Math.round(warmupMs + i * slotMs + random() * slotMs * FIRE_SPAN),
    deployDelayMs: Math.round(random() * DEPLOY_DELAY_SPAN_MS),
    pick: random(),
  }));
}

/** `--kinds a,b`: a comma-separated subset of FAULT_KINDS, in FAULT_KINDS order. */
export function parseKinds(value: string): FaultKind[] {
  const picked = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = picked.filter((p) => !(FAULT_KINDS as readonly string[]).includes(p));
  if (bad.length || picked.length === 0) throw new Error(`--kinds: expected a comma-separated subset of ${FAULT_KINDS.join(',')}, got "${value}"`);
  return FAULT_KINDS.filter((k) => picked.includes(k));
}

/** `--seed`: a whole number ≥ 0 (0 is a seed like any other). */
export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`--seed: expected a whole number from 0 to 4294967295, got "${value}"`);
  return n;
}
