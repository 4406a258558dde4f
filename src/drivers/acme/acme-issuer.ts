/**
 * AcmeIssuer over the acme-client package (RFC 8555): HTTP-01 challenges only, ECDSA P-256
 * keys for certificates and accounts. The account is found again from its key (newAccount
 * with an existing key returns it), so the kept key is the whole account.
 */
import https from 'node:https';
import acme from 'acme-client';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { AcmeIssuer, ChallengeBoard, CertificateMaterial } from '../../core/ports/certificates';

export class AcmeClientIssuer implements AcmeIssuer {
  constructor(private readonly log: Logger) {
    // acme-client retries a refused connection or a 5xx 5 times, 5 s × attempt apart (75 s) before
    // an order fails; the certificate manager has its own backoff, so fail sooner and say why.
    const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
    if (settings) Object.assign(settings, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
  }

  async createAccountKey(): Promise<string> {
    return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  }

  async issue(order: { directoryUrl: string; accountKeyPem: string; email: string | null; domains: string[]; challenges: ChallengeBoard }): Promise<CertificateMaterial> {
    const [commonName, ...rest] = order.domains;
    if (!commonName) throw new SlipwayError('SLW_ACME', 'an ACME order needs at least one domain');
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ commonName, altNames: [commonName, ...rest] }, key);
    // Polling the CA for a challenge's result: 10 attempts from 1 s, capped at 10 s between them.
    const client = new acme.Client({ directoryUrl: order.directoryUrl, accountKey: order.accountKeyPem, backoffAttempts: 10, backoffMin: 1000, backoffMax: 10_000 });
    try {
      await findOrCreateAccount(client, order.email);
      const certPem = await client.auto({
        csr,
        ...(order.email ? { email: order.email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA's own validation says precisely what failed; a self-check from here would resolve
        // the domain with this host's resolver, which may not see what the CA sees.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`unsupported challenge type ${challenge.type}`);
          order.challenges.publish(challenge.token, keyAuthorization);
          this.log.debug({ domains: order.domains, token: challenge.token }, 'ACME HTTP-01 challenge published');
        },
        challengeRemoveFn: async (_authz, challenge) => {
          order.challenges.withdraw(challenge.token);
        },
      });
      return { certPem, keyPem: key.toString() };
    } catch (err) {
      // acme-client 5.4 loses a network error after its retries (a TypeError about `config`): ask the network ourselves.
      const reason = err instanceof TypeError ? ((await unreachable(order.directoryUrl)) ?? describe(err)) : describe(err);
      throw new SlipwayError('SLW_ACME', `ACME order for ${order.domains.join(', ')} at ${order.directoryUrl} failed: ${reason}`);
    }
  }
}

/**
 * The account of this key: looked up first (an existing account is not "updated" with the
 * terms again, which CAs refuse as an empty update), registered when there is none.
 */
async function findOrCreateAccount(client: acme.Client, email: string | null): Promise<void> {
  try {
    await client.createAccount({ onlyReturnExisting: true });
  } catch (err) {
    if (!/accountDoesNotExist|does not exist|no account exists|unable to find existing account/i.test(errorMessage(err))) throw err;
    await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) });
  }
}

/** Why the directory cannot be fetched (e.g. "connect ECONNREFUSED 127.0.0.1:14000"), or null when it can. */
function unreachable(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = https.get(url, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode && res.statusCode < 500 ? null : `the ACME directory answered HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`the ACME directory cannot be reached: ${e.message}`));
  });
}

/** acme-client throws the CA's problem detail as the message; axios errors carry a code. */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = errorMessage(err);
  return e.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
