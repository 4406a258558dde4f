/**
 * Checks a JSON answer against the response schema its route declares (the route table in
 * src/core/contract/routes.ts). Turned on by SLIPWAY_STRICT_RESPONSES=1, which the test
 * suite sets: every integration test then also verifies that the server answers what the
 * contract (and so the OpenAPI document and the client's types) says, field for field.
 * A mismatch is a 500 naming the route and the fields, so a test fails where it happens.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeContract } from '../core/contract/routes';
import { SlipwayError } from '../core/errors';

export async function responseCheck(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const key = `${req.routeOptions.method} ${req.routeOptions.url}`;
  const contract = routeContract(key);
  const status = reply.statusCode;
  const declared = status === (contract?.ok?.status ?? 200) || (contract?.alsoOk ?? []).includes(status);
  if (!contract?.response || !declared) return payload;
  const checked = contract.response.safeParse(payload);
  if (checked.success) return payload;
  const problems = checked.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  req.log.error({ route: key, problems }, 'answer does not match its declared response schema');
  throw new SlipwayError('SLW_INTERNAL', `the answer of ${key} does not match its declared schema: ${problems.join('; ')}`);
}
