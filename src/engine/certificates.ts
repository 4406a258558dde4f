/**
 * The certificate manager: every domain the edge routes (and the control plane's own domain)
 * gets a certificate, kept in the store (the key sealed under the master key) and installed
 * at the edge without a reload.
 *
 * - `*.localhost` names get one from the local development CA; other names from the ACME CA
 *   (HTTP-01: the edge sends /.well-known/acme-challenge/ to the control plane, which answers
 *   from `challengeResponse`). With ACME off they stay HTTP only.
 * - Renewal falls due at 2/3 of the lifetime. A failed attempt is recorded (status, error,
 *   failures in a row) with a `certificate.failed` event, and retried with backoff; the
 *   certificate served until then keeps serving, and a domain without one keeps HTTP.
 * - Own certificates (`slipway certs add`) are validated before anything changes, and never
 *   renewed or replaced by Slipway.
 *
 * Passes and explicit commands run one at a time (one queue), so two never order the same
 * certificate at once.
 */
import type { Logger } from 'pino';
import type { CertificateRecord, CertificateSource } from '../core/domain';
import { SlipwayError, errorMessage } from '../core/errors';
import type { AcmeIssuer, CertificateMaterial, LocalCertificateAuthority } from '../core/ports/certificates';
import type { NewOutboxEvent } from '../core/ports/store';
import { inspectCertificate } from '../core/tls/certificate-info';
import { checkOwnCertificate } from '../core/tls/own-certificate-check';
import { DEFAULT_RETRY, isLocalDomain, nextAttemptAt, renewAt, type RetryPolicy } from '../core/tls/renewal';
import type { EngineContext } from './engine-context';

export interface AcmeSettings {
  issuer: AcmeIssuer;
  directoryUrl: string;
  email: string | null;
}

export interface CertificateManagerOptions {
  /** null: ACME is off (SLIPWAY_ACME=off); public domains stay HTTP only. */
  acme: AcmeSettings | null;
  localCa: LocalCertificateAuthority;
  /** The control plane's own domain (SLIPWAY_DOMAIN), certified like a service's. */
  controlDomain: string | null;
  /** Longest time between passes; a deploy that routes a new domain wakes the manager sooner. */
  intervalMs: number;
  retry?: RetryPolicy;
  logger: Logger;
  now?: () => number;
}

const KEY_CONTEXT = (domain: string) => `certificate-key:${domain}`;
const ACCOUNT_SETTING = (directoryUrl: string) => `acme.account-key:${directoryUrl}`;

export class CertificateManager {
  private readonly challenges = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly ctx: EngineContext,
    private readonly opts: CertificateManagerOptions,
  ) {
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  get acmeDirectoryUrl(): string | null {
    return this.opts.acme?.directoryUrl ?? null;
  }

  get localCa(): LocalCertificateAuthority {
    return this.opts.localCa;
  }

  /** Installs what the store holds (the edge may have been recreated), then passes on schedule. */
  async start(): Promise<void> {
    await this.serial(() => this.installStored());
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.queue.catch(() => undefined);
  }

  /** A pass soon (a deploy may have routed a new domain). */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** The key authorization of a pending HTTP-01 challenge, or null. */
  challengeResponse(token: string): string | null {
    return this.challenges.get(token) ?? null;
  }

  list(): Promise<CertificateRecord[]> {
    return this.ctx.store.listCertificates();
  }

  /**
   * The certificates of the domains a project's services route (its edge backends are
   * `be_<project>_…`; project names hold no "_"). Own wildcard certificates and the control
   * domain's belong to no project: a project-restricted token does not see them.
   */
  async listForProject(project: string): Promise<CertificateRecord[]> {
    const prefix = `be_${project}_`;
    const hosts = new Set((await this.ctx.edge.listBackends()).filter((b) => b.name.startsWith(prefix)).flatMap((b) => b.hosts));
    return (await this.list()).filter((c) => hosts.has(c.domain));
  }

  /** One pass: obtains missing certificates and renews due ones; returns the domains attempted. */
  pass(): Promise<string[]> {
    return this.serial(async () => {
      const attempted: string[] = [];
      const records = new Map((await this.ctx.store.listCertificates()).map((c) => [c.domain, c]));
      for (const domain of await this.wantedDomains()) {
        if (this.stopped) break;
        const rec = records.get(domain) ?? null;
        const source = this.sourceFor(domain, rec);
        if (!source || source === 'own' || !this.due(rec)) continue;
        attempted.push(domain);
        await this.obtain(domain, source, rec).catch(() => undefined);
      }
      return attempted;
    });
  }

  /** Renews now, whatever the schedule (`slipway certs renew`); throws with the CA's words on failure. */
  renew(domain: string): Promise<CertificateRecord> {
    return this.serial(async () => {
      const rec = await this.ctx.store.getCertificate(domain);
      if (!rec && !(await this.wantedDomains()).includes(domain)) throw new SlipwayError('SLW_NOT_FOUND', `no service routes ${domain} and Slipway holds no certificate for it`);
      if (rec?.source === 'own') throw new SlipwayError('SLW_CONFLICT', `${domain} uses your own certificate; Slipway does not renew it (add a new one with slipway certs add)`);
      const source = this.sourceFor(domain, rec);
      if (!source || source === 'own') throw new SlipwayError('SLW_CONFLICT', `ACME is off (SLIPWAY_ACME=off): ${domain} cannot get a certificate from a CA; add your own with slipway certs add`);
      return this.obtain(domain, source, rec);
    });
  }

  /**
   * A certificate the user brings. Checked completely (key, chain order, domain, dates) before
   * anything changes: a refused one leaves the served certificate as it was.
   */
  addOwn(input: { domain: string; certPem: string; keyPem: string }): Promise<CertificateRecord> {
    return this.serial(async () => {
      const domain = input.domain.toLowerCase();
      const checked = checkOwnCertificate({ domain, certPem: input.certPem, keyPem: input.keyPem, now: new Date(this.now()) });
      const previous = await this.ctx.store.getCertificate(domain);
      return this.store(domain, 'own', { certPem: checked.certPem, keyPem: checked.keyPem }, previous, false, checked.info);
    });
  }

  /** Forgets a domain's certificate; a domain still routed gets an ACME or local one at the next pass. */
  remove(domain: string): Promise<void> {
    return this.serial(async () => {
      const rec = await this.ctx.store.getCertificate(domain);
      if (!rec) throw new SlipwayError('SLW_NOT_FOUND', `Slipway holds no certificate for ${domain}`);
      await this.ctx.edge.removeCertificate(edgeName(domain));
      await this.ctx.store.deleteCertificate(domain);
      this.log.info({ domain, source: rec.source }, 'certificate removed');
    });
  }

  /** Re-seals every certificate key under the primary master key (after a rotation). */
  async reseal(): Promise<void> {
    const updates = [];
    for (const c of await this.ctx.store.listCertificates()) {
      if (!c.sealedKey || c.keyId === this.ctx.cipher.primaryKeyId()) continue;
      const sealed = this.ctx.cipher.seal(this.ctx.cipher.open(c.sealedKey, KEY_CONTEXT(c.domain)), KEY_CONTEXT(c.domain));
      updates.push({ domain: c.domain, keyId: sealed.keyId, sealedKey: sealed.sealed });
    }
    if (updates.length) await this.ctx.store.resealCertificates(updates);
  }

  // ---------------------------------------------------------------------------

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pass()
        .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'certificate pass failed'))
        .then(() => this.nextDelay())
        .then((ms) => this.schedule(ms))
        .catch(() => this.schedule(this.opts.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Until the next renewal or retry falls due, at most the interval. Times already past were
   * just handled (or skipped: a domain no longer routed) by the pass that ran.
   */
  private async nextDelay(): Promise<number> {
    const now = this.now();
    let next = now + this.opts.intervalMs;
    for (const c of await this.ctx.store.listCertificates()) {
      if (c.source === 'own') continue;
      for (const at of [c.renewAt, c.nextAttemptAt]) {
        const t = at ? Date.parse(at) : NaN;
        if (t > now) next = Math.min(next, t);
      }
    }
    return Math.max(100, next - now);
  }

  private async wantedDomains(): Promise<string[]> {
    const hosts = (await this.ctx.edge.listBackends()).flatMap((b) => b.hosts);
    if (this.opts.controlDomain) hosts.push(this.opts.controlDomain);
    return [...new Set(hosts)].sort();
  }

  private sourceFor(domain: string, rec: CertificateRecord | null): CertificateSource | null {
    if (rec?.source === 'own') return 'own';
    if (isLocalDomain(domain)) return 'local';
    return this.opts.acme ? 'acme' : null;
  }

  private due(rec: CertificateRecord | null): boolean {
    if (!rec) return true;
    const now = this.now();
    if (rec.nextAttemptAt && Date.parse(rec.nextAttemptAt) > now) return false;
    return !rec.certPem || rec.status === 'failed' || (rec.renewAt !== null && Date.parse(rec.renewAt) <= now);
  }

  /** Obtains (or renews) and installs a certificate; a failure is recorded, announced and rethrown. */
  private async obtain(domain: string, source: 'acme' | 'local', rec: CertificateRecord | null): Promise<CertificateRecord> {
    const renewal = Boolean(rec?.certPem);
    this.log.info({ domain, source, renewal }, renewal ? 'renewing certificate' : 'obtaining certificate');
    try {
      const material = source === 'local' ? await this.opts.localCa.issue([domain]) : await this.orderFromAcme(domain);
      return await this.store(domain, source, material, rec, renewal);
    } catch (err) {
      const failures = (rec?.failures ?? 0) + 1;
      const next = nextAttemptAt(this.now(), failures, this.opts.retry ?? DEFAULT_RETRY);
      const error = errorMessage(err);
      const base = rec ?? emptyRecord(domain, source);
      const event: NewOutboxEvent = { type: 'certificate.failed', project: null, payload: { domain, source, renewal, error, failures, nextAttemptAt: next } };
      await this.ctx.store.putCertificate({ ...base, source, status: 'failed', lastError: error, failures, nextAttemptAt: next }, event);
      this.log.warn({ domain, source, failures, nextAttemptAt: next, err: error }, 'could not obtain a certificate; will retry');
      throw err;
    }
  }

  private async orderFromAcme(domain: string): Promise<CertificateMaterial> {
    const acme = this.opts.acme!;
    return acme.issuer.issue({
      directoryUrl: acme.directoryUrl,
      accountKeyPem: await this.accountKey(acme),
      email: acme.email,
      domains: [domain],
      challenges: { publish: (t, k) => void this.challenges.set(t, k), withdraw: (t) => void this.challenges.delete(t) },
    });
  }

  /** Created once per CA directory and kept sealed: the key is the account. */
  private async accountKey(acme: AcmeSettings): Promise<string> {
    const setting = ACCOUNT_SETTING(acme.directoryUrl);
    const kept = await this.ctx.store.getSetting(setting);
    if (kept) return this.ctx.cipher.open(kept, setting);
    const pem = await acme.issuer.createAccountKey();
    await this.ctx.store.setSetting(setting, this.ctx.cipher.seal(pem, setting).sealed);
    this.log.info({ directoryUrl: acme.directoryUrl }, 'created the ACME account key');
    return pem;
  }

  /** Installs at the edge, then records (key sealed) with a `certificate.issued` event. */
  private async store(
    domain: string,
    source: CertificateSource,
    material: CertificateMaterial,
    previous: CertificateRecord | null,
    renewal: boolean,
    info = inspectCertificate(material.certPem),
  ): Promise<CertificateRecord> {
    await this.ctx.edge.installCertificate({ name: edgeName(domain), hosts: info.domains, certPem: material.certPem, keyPem: material.keyPem, redirectByDefault: source !== 'local' });
    const sealed = this.ctx.cipher.seal(material.keyPem, KEY_CONTEXT(domain));
    const issuedAt = new Date(this.now()).toISOString();
    const record = {
      ...(previous ?? emptyRecord(domain, source)),
      source,
      status: 'valid' as const,
      certPem: material.certPem,
      keyId: sealed.keyId,
      sealedKey: sealed.sealed,
      domains: info.domains,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      issuer: info.issuer,
      fingerprint256: info.fingerprint256,
      renewAt: source === 'own' ? null : renewAt(info.notBefore, info.notAfter),
      issuedAt,
      lastError: null,
      failures: 0,
      nextAttemptAt: null,
    };
    const event: NewOutboxEvent = { type: 'certificate.issued', project: null, payload: { domain, source, renewal, notAfter: info.notAfter, issuer: info.issuer } };
    const saved = await this.ctx.store.putCertificate(record, event);
    this.log.info({ domain, source, renewal, notAfter: info.notAfter, renewAt: record.renewAt }, renewal ? 'certificate renewed' : 'certificate installed');
    return saved;
  }

  /** The store is the truth: what the edge lacks or holds differently is installed again. */
  private async installStored(): Promise<void> {
    const atEdge = new Map((await this.ctx.edge.listCertificates()).map((c) => [c.name, c.fingerprint256]));
    for (const c of await this.ctx.store.listCertificates()) {
      if (!c.certPem || !c.sealedKey || atEdge.get(edgeName(c.domain)) === c.fingerprint256) continue;
      try {
        const keyPem = this.ctx.cipher.open(c.sealedKey, KEY_CONTEXT(c.domain));
        await this.ctx.edge.installCertificate({ name: edgeName(c.domain), hosts: c.domains, certPem: c.certPem, keyPem, redirectByDefault: c.source !== 'local' });
      } catch (err) {
        this.log.error({ domain: c.domain, err: errorMessage(err) }, 'could not install a stored certificate at the edge');
      }
    }
  }
}

function emptyRecord(domain: string, source: CertificateSource): Omit<CertificateRecord, 'createdAt' | 'updatedAt'> {
  return {
    domain,
    source,
    status: 'pending',
    certPem: null,
    keyId: null,
    sealedKey: null,
    domains: [],
    notBefore: null,
    notAfter: null,
    issuer: null,
    fingerprint256: null,
    renewAt: null,
    issuedAt: null,
    lastError: null,
    failures: 0,
    nextAttemptAt: null,
  };
}

/** Host names are [a-z0-9.-]: the edge's file name is the domain; `*.` (an own wildcard) becomes `wildcard_.`, which no host name can be. */
export function edgeName(domain: string): string {
  return domain.replace(/^\*\./, 'wildcard_.');
}
