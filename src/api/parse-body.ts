/** Validates request input with zod; failures become SLW_BAD_REQUEST naming each field. */
import type { z } from 'zod';
import { SlipwayError } from '../core/errors';
import { issuesToDetails, formatErrors } from '../core/parse-config';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const details = issuesToDetails(r.error.issues);
  throw new SlipwayError('SLW_BAD_REQUEST', `invalid ${what}: ${formatErrors(details).replace(/\n/g, '; ')}`, details);
}
