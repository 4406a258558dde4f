/**
 * The local development CA: a root kept in `dir` (local-ca.pem 0644, local-ca-key.pem 0600),
 * created on first use, that signs short-lived leaves for localhost and *.localhost. A developer
 * trusts it once (trustCommands) and every local service gets HTTPS without warnings. Its name
 * constraints limit it to *.localhost, so trusting it cannot expose other sites.
 */
import { X509Certificate as NodeX509, createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { SlipwayError } from '../../core/errors';
import type { CertificateMaterial, LocalCertificateAuthority } from '../../core/ports/certificates';
import { P256, importP256Key, newP256Keys, pemFile, pkcs8Pem, randomSerial, serverExtensions, x509 } from './x509-keys';

const CERT_FILE = 'local-ca.pem';
const KEY_FILE = 'local-ca-key.pem';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CA_DAYS = 3650;
const LEAF_DAYS = 90;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export interface LocalCaOptions {
  /** Where the CA files live (created 0700 when missing). */
  dir: string;
  /** Shown in the CA's name so a developer can tell machines apart; defaults to os.hostname(). */
  hostname?: string;
}

interface Authority {
  cert: x509.X509Certificate;
  certPem: string;
  key: CryptoKey;
}

function refuse(message: string): SlipwayError {
  return new SlipwayError('SLW_CERT_INVALID', message);
}

/** The domains, lower-cased, when all are localhost or under .localhost (a leading "*." label allowed). */
export function localDomains(domains: string[]): string[] {
  if (domains.length === 0) throw refuse('the local CA needs at least one domain');
  return domains.map((raw) => {
    const domain = raw.trim().toLowerCase();
    const labels = domain.split('.');
    const wellFormed = domain.length <= 253 && labels.every((l, i) => LABEL.test(l) || (i === 0 && l === '*' && labels.length > 2));
    if (!wellFormed || (domain !== 'localhost' && !domain.endsWith('.localhost'))) {
      throw new SlipwayError('SLW_CERT_INVALID', `the local CA only issues certificates for localhost and names under .localhost, not ${raw}`, [{ path: 'domains', message: `${raw} is not localhost or a name under .localhost` }]);
    }
    return domain;
  });
}

/** DER: tag, length, content (lengths in short or long form). */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/**
 * RFC 5280 nameConstraints permitting only the DNS names localhost and *.localhost, encoded by hand
 * (@peculiar/x509 has no class for it): SEQUENCE { [0] permittedSubtrees SEQUENCE OF GeneralSubtree { dNSName [2] } }.
 */
function localhostOnly(): x509.Extension {
  const subtree = (name: string) => der(0x30, der(0x82, Buffer.from(name, 'ascii')));
  const value = der(0x30, der(0xa0, Buffer.concat([subtree('localhost'), subtree('.localhost')])));
  return new x509.Extension('2.5.29.30', true, new Uint8Array(value));
}

/** Writes through a temporary file and a rename, so a reader never sees half a file; chmod because umask may narrow `mode`. */
async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function shellQuote(arg: string): string {
  return /^[\w./:@%+=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export class LocalCa implements LocalCertificateAuthority {
  private readonly dir: string;
  private readonly hostname: string;
  /** One load-or-create at a time: concurrent first issues share it instead of minting two CAs. */
  private authority: Promise<Authority> | null = null;

  constructor(opts: LocalCaOptions) {
    this.dir = opts.dir;
    this.hostname = opts.hostname ?? hostname();
  }

  caCertificateFile(): string {
    return path.join(this.dir, CERT_FILE);
  }

  trustCommands(): string[] {
    const file = shellQuote(this.caCertificateFile());
    return [
      `sudo cp ${file} /usr/local/share/ca-certificates/slipway-local-ca.crt && sudo update-ca-certificates  # Debian/Ubuntu`,
      `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${file}  # macOS`,
      `certutil -d "sql:$HOME/.pki/nssdb" -A -t C,, -n slipway-local-ca -i ${file}  # Chrome/Chromium on Linux keep their own NSS store (certutil: libnss3-tools); for Firefox, import the file under Settings > Certificates or use -d sql:<profile dir>`,
    ];
  }

  async issue(domains: string[]): Promise<CertificateMaterial> {
    const names = localDomains(domains);
    const ca = await this.ready();
    const keys = await newP256Keys();
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [names[0]!] }],
      issuer: ca.cert.subjectName,
      notBefore: new Date(now - HOUR), // tolerate clocks a little behind
      notAfter: new Date(Math.min(now + LEAF_DAYS * DAY, ca.cert.notAfter.getTime())),
      publicKey: keys.publicKey,
      signingKey: ca.key,
      signingAlgorithm: P256,
      extensions: [...(await serverExtensions(names, keys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey)],
    });
    return { certPem: pemFile(leaf.toString('pem')) + ca.certPem, keyPem: await pkcs8Pem(keys.privateKey) };
  }

  private ready(): Promise<Authority> {
    // A failed attempt is forgotten so the next call can retry (e.g. after fixing permissions).
    this.authority ??= this.loadOrCreate().catch((err: unknown) => {
      this.authority = null;
      throw err;
    });
    return this.authority;
  }

  private async loadOrCreate(): Promise<Authority> {
    const created = await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(this.dir, 0o700);
    const certFile = this.caCertificateFile();
    const keyFile = path.join(this.dir, KEY_FILE);
    const certPem = await readIfExists(certFile);
    if (certPem === null) return this.create(certFile, keyFile);
    const keyPem = await readIfExists(keyFile);
    if (keyPem === null) throw refuse(`${keyFile} is missing but ${certFile} exists: restore the key, or delete ${certFile} to create a new local CA (and trust it again)`);
    return this.load(certPem, keyPem, certFile, keyFile);
  }

  private async load(certPem: string, keyPem: string, certFile: string, keyFile: string): Promise<Authority> {
    const startOver = `delete ${certFile} and ${keyFile} to create a new local CA (and trust it again)`;
    try {
      if (!new NodeX509(certPem).checkPrivateKey(createPrivateKey(keyPem))) throw refuse(`${keyFile} is not the key of ${certFile}: ${startOver}`);
      const cert = new x509.X509Certificate(certPem);
      if (cert.notAfter.getTime() <= Date.now()) throw refuse(`the local CA expired on ${cert.notAfter.toISOString()}: ${startOver}`);
      return { cert, certPem: pemFile(certPem), key: await importP256Key(keyPem) };
    } catch (err) {
      if (err instanceof SlipwayError) throw err;
      throw refuse(`the local CA files are unreadable (${(err as Error).message}): ${startOver}`);
    }
  }

  private async create(certFile: string, keyFile: string): Promise<Authority> {
    const keys = await newP256Keys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: [{ CN: [`Slipway local CA (${this.hostname})`] }],
      notBefore: new Date(now - HOUR),
      notAfter: new Date(now + CA_DAYS * DAY),
      keys,
      signingAlgorithm: P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true), // signs leaves only, no sub-CAs
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        localhostOnly(),
      ],
    });
    const certPem = pemFile(cert.toString('pem'));
    // Key first: a certificate on disk then always has its key beside it.
    await writeAtomic(keyFile, await pkcs8Pem(keys.privateKey), 0o600);
    await writeAtomic(certFile, certPem, 0o644);
    return { cert, certPem, key: keys.privateKey };
  }
}
