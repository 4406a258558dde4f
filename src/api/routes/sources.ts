/**
 * Build contexts uploaded by clients: `PUT /api/v1/projects/:project/sources/:sha256` with
 * the tar archive as the raw body (streamed to disk, never buffered), `GET` to ask whether
 * it is already here (the CLI skips the upload when it is). Kept per project, so a hash
 * is neither visible to nor deployable by another project. The server builds only from
 * these archives or from git; it never reads a path the client names.
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { SlipwayError } from '../../core/errors';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';
import { sourceParams } from '../../core/contract/requests';

export const SOURCE_CONTENT_TYPES = ['application/x-tar', 'application/octet-stream'];

export function sourceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/projects/:project/sources/:sha256', { config: { scope: 'deploy' } }, async (req) => {
    const { project, sha256 } = parseInput(sourceParams, req.params, 'path');
    // The legacy shared pool answers only unrestricted tokens (their deploys can use it).
    const lookup = { legacy: !req.principal!.project };
    const stored = (await deps.sources.find(project, sha256, lookup)) ? await deps.sources.describe(project, sha256, lookup) : null;
    if (!stored) throw new SlipwayError('SLW_NOT_FOUND', `no build context ${sha256} for project ${project} on the server`);
    return { source: stored };
  });

  // Its own scope, so only this route takes a raw (unparsed) body.
  void app.register(async (scope) => {
    scope.addContentTypeParser(SOURCE_CONTENT_TYPES, (_req, payload, done) => done(null, payload));
    scope.put('/api/v1/projects/:project/sources/:sha256', { config: { scope: 'deploy' } }, async (req, reply) => {
      const { project, sha256 } = parseInput(sourceParams, req.params, 'path');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > deps.maxSourceBytes) {
        throw new SlipwayError('SLW_TOO_LARGE', `the build context is ${declared} bytes; the server accepts at most ${deps.maxSourceBytes} (SLIPWAY_MAX_SOURCE_BYTES): exclude what the build does not need with .dockerignore`);
      }
      if (!req.body) throw new SlipwayError('SLW_BAD_REQUEST', `the body must be the build context as a tar archive (content-type ${SOURCE_CONTENT_TYPES[0]})`);
      req.audit = { project, target: `build context ${sha256.slice(0, 12)}` };
      const stored = await deps.sources.receive(project, sha256, req.body as Readable, deps.maxSourceBytes);
      return reply.status(stored.existed ? 200 : 201).send({ source: { sha256: stored.sha256, bytes: stored.bytes, files: stored.files }, existed: stored.existed });
    });
  });
}
