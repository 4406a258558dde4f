/**
 * Certificates: the list with expiry and renewal state (read), own certificates and forced
 * renewals (admin), and the public ACME HTTP-01 answers the edge forwards here.
 */
import type { FastifyInstance } from 'fastify';
import type { CertificateRecord } from '../../core/domain';
import { SlipwayError } from '../../core/errors';
import type { CertificateView } from '../../core/contract/views';
import { certificateParams, ownCertificateBody } from '../../core/contract/requests';
import type { ApiDeps } from '../api-deps';
import { parseInput } from '../parse-body';

const DAY_MS = 86_400_000;

export function certificateRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const certs = deps.certificates;

  // A project-restricted token sees the certificates of its project's domains only.
  app.get('/api/v1/certificates', { config: { scope: 'read' } }, async (req) => ({
    certificates: (req.principal?.project ? await certs.listForProject(req.principal.project) : await certs.list()).map(toView),
    acme: { directoryUrl: certs.acmeDirectoryUrl },
    localCa: { caFile: certs.localCa.caCertificateFile(), trustCommands: certs.localCa.trustCommands() },
  }));

  app.post('/api/v1/certificates', { config: { scope: 'admin' } }, async (req, reply) => {
    const body = parseInput(ownCertificateBody, req.body, 'certificate');
    req.audit = { target: body.domain };
    const certificate = await certs.addOwn({ domain: body.domain, certPem: body.cert, keyPem: body.key });
    return reply.status(201).send({ certificate: toView(certificate) });
  });

  app.post('/api/v1/certificates/:domain/renew', { config: { scope: 'admin' } }, async (req) => {
    const { domain } = parseInput(certificateParams, req.params, 'path');
    req.audit = { target: domain };
    return { certificate: toView(await certs.renew(domain)) };
  });

  app.delete('/api/v1/certificates/:domain', { config: { scope: 'admin' } }, async (req) => {
    const { domain } = parseInput(certificateParams, req.params, 'path');
    req.audit = { target: domain };
    await certs.remove(domain);
    return { removed: domain };
  });

  app.get('/.well-known/acme-challenge/:token', { config: { public: true } }, async (req, reply) => {
    const { token } = req.params as { token: string };
    const answer = /^[A-Za-z0-9_-]{1,200}$/.test(token) ? certs.challengeResponse(token) : null;
    if (answer === null) throw new SlipwayError('SLW_NOT_FOUND', 'no pending ACME challenge has this token');
    return reply.type('text/plain').send(answer);
  });
}

function toView(c: CertificateRecord): CertificateView {
  return {
    domain: c.domain,
    source: c.source,
    status: c.status,
    domains: c.domains,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    daysLeft: c.notAfter ? Math.round(((Date.parse(c.notAfter) - Date.now()) / DAY_MS) * 10) / 10 : null,
    renewAt: c.renewAt,
    issuedAt: c.issuedAt,
    fingerprint256: c.fingerprint256,
    lastError: c.lastError,
    failures: c.failures,
    nextAttemptAt: c.nextAttemptAt,
  };
}
