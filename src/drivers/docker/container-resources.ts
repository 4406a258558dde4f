/** Resource limits ↔ Docker's HostConfig (Memory in bytes, NanoCpus = cpus × 1e9; 0 means none). */
import type { ResourceLimits } from '../../core/config';

export function resourceHostConfig(limits: ResourceLimits | undefined): { Memory?: number; MemorySwap?: number; NanoCpus?: number } {
  const out: { Memory?: number; MemorySwap?: number; NanoCpus?: number } = {};
  if (limits?.memoryBytes) {
    out.Memory = limits.memoryBytes;
    // No swap on top: `memory: 512m` is what the container may use, and beyond it the OOM killer acts (predictably, not after thrashing).
    out.MemorySwap = limits.memoryBytes;
  }
  if (limits?.cpus) out.NanoCpus = Math.round(limits.cpus * 1e9);
  return out;
}

export function resourcesOf(host: { Memory?: number; NanoCpus?: number } | undefined): ResourceLimits {
  return {
    memoryBytes: host?.Memory ? host.Memory : null,
    cpus: host?.NanoCpus ? host.NanoCpus / 1e9 : null,
  };
}
