/**
 * Certificates at the edge: where they come from (an ACME CA through HTTP-01 challenges,
 * the local development CA for *.localhost) and what they are made of. The engine's
 * CertificateManager decides when to obtain, renew and install them; the edge serves them.
 */

/** A certificate chain (leaf first, then its intermediates) and the leaf's private key, both PEM. */
export interface CertificateMaterial {
  certPem: string;
  keyPem: string;
}

/** What a certificate (the leaf of a chain) says about itself. */
export interface CertificateInfo {
  /** DNS names it is valid for (subjectAltName DNS entries; the subject CN when there are none). */
  domains: string[];
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** Issuer and subject distinguished names as one line each (e.g. "CN=Pebble Intermediate CA 1a2b"). */
  issuer: string;
  subject: string;
  /** Hex serial number, upper case. */
  serial: string;
  /** SHA-256 fingerprint of the leaf, colon-separated hex (as node:crypto gives it). */
  fingerprint256: string;
  /** The leaf is its own issuer. */
  selfSigned: boolean;
}

/** Where HTTP-01 key authorizations are published while the CA checks them (the control plane answers /.well-known/acme-challenge/<token>). */
export interface ChallengeBoard {
  publish(token: string, keyAuthorization: string): void;
  withdraw(token: string): void;
}

/** ACME (RFC 8555) issuance with HTTP-01 challenges. Implemented by src/drivers/acme. */
export interface AcmeIssuer {
  /** A new account key (PEM); the caller keeps it sealed and passes it to every order. */
  createAccountKey(): Promise<string>;
  /**
   * Orders one certificate for `domains` (the first is the subject) from `directoryUrl`, creating
   * or finding the account of `accountKeyPem`. Throws SLW_ACME with the CA's words on failure.
   */
  issue(order: { directoryUrl: string; accountKeyPem: string; email: string | null; domains: string[]; challenges: ChallengeBoard }): Promise<CertificateMaterial>;
}

/** The local certificate authority Slipway creates for development HTTPS (*.localhost). */
export interface LocalCertificateAuthority {
  /** A leaf for `domains`, signed by the local CA (created on first use and kept). */
  issue(domains: string[]): Promise<CertificateMaterial>;
  /** The CA certificate file a developer trusts. */
  caCertificateFile(): string;
  /** The commands that make this machine (and its browsers) trust the local CA. */
  trustCommands(): string[];
}
