/** Validates request input with zod; failures become SLW_BAD_REQUEST naming each field. */
import type { z } from 'zod';
import { SlipwayError, type ErrorDetail } from '../core/errors';
import { issuesToDetails, formatErrors } from '../core/parse-config';

/**
 * Bounds on any JSON input, checked before zod: within the 1 MiB body limit, 100,000 map
 * entries or list items took zod (and the error report) up to 0.6 s of event loop. No
 * request of the API needs more than these.
 */
export const INPUT_LIMITS = { items: 1000, values: 10_000, depth: 10 } as const;
/** Errors reported per request (the rest are the same mistake again). */
const MAX_DETAILS = 20;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const shape = inputShapeProblem(input);
  if (shape) throw new SlipwayError('SLW_BAD_REQUEST', `invalid ${what}: ${formatErrors([shape])}`, [shape]);
  const r = schema.safeParse(input ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const all = issuesToDetails(r.error.issues);
  const details = all.slice(0, MAX_DETAILS);
  const more = all.length > details.length ? `; and ${all.length - details.length} more` : '';
  throw new SlipwayError('SLW_BAD_REQUEST', `invalid ${what}: ${formatErrors(details).replace(/\n/g, '; ')}${more}`, details);
}

/** The first place `input` exceeds INPUT_LIMITS, named by its path (keys only: values are never quoted). */
export function inputShapeProblem(input: unknown): ErrorDetail | null {
  let values = 0;
  const walk = (v: unknown, path: string[]): ErrorDetail | null => {
    const at = path.join('.') || '(body)';
    if (++values > INPUT_LIMITS.values) return { path: '(body)', message: `size limit exceeded: more than ${INPUT_LIMITS.values} values` };
    if (v === null || typeof v !== 'object') return null;
    if (path.length >= INPUT_LIMITS.depth) return { path: at, message: `nesting limit exceeded: at most ${INPUT_LIMITS.depth} levels` };
    const count = Array.isArray(v) ? v.length : Object.keys(v).length;
    if (count > INPUT_LIMITS.items) return { path: at, message: `must have at most ${INPUT_LIMITS.items} ${Array.isArray(v) ? 'items' : 'entries'} (got ${count})` };
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, x] of entries) {
      const problem = walk(x, [...path, k.length > 64 ? `${k.slice(0, 64)}…` : k]);
      if (problem) return problem;
    }
    return null;
  };
  return walk(input, []);
}
