/**
 * Parses one line of the edge's request log (src/core/request-log.ts). Checked by hand
 * rather than with zod: this runs once per request at full edge speed, and a line is either
 * exactly what the edge's log-format produces or it is counted as malformed.
 */
import { ABSENT, type EdgeRequestLine } from '../core/request-log';

const STRINGS = ['b', 's', 'm', 'p', 'ci', 'xff', 'cf', 'id', 'ts'] as const;
const NUMBERS = ['t', 'st', 'by', 'ta', 'tr'] as const;

export function parseRequestLine(line: string): EdgeRequestLine | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  for (const k of STRINGS) if (typeof o[k] !== 'string') return null;
  for (const k of NUMBERS) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return null;
  return o as unknown as EdgeRequestLine;
}

/** A string field's value, or undefined when the edge had none. */
export function present(value: string): string | undefined {
  return value === ABSENT || value === '' ? undefined : value;
}
