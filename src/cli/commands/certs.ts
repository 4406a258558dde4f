/**
 * `slipway certs`: the certificates the edge serves (expiry, renewal, the last error), own
 * certificates (`add`), renewal now (`renew`), `remove`, and the local development CA (`ca`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError } from '../../client/api-client';
import { CliError } from '../cli-error';
import { refused } from '../api-refusal';
import { connect, type GlobalOptions } from '../connection';
import { CERTIFICATE_COLUMNS, certificateRows, installedLines, instant, localCaLines, overviewLines, renewedLines, span } from '../certs-format';
import { printJson, printTable } from '../output';

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${flag}: cannot read ${file}: ${(code && READ_ERRORS[code]) ?? code ?? (err as Error).message}`);
  }
}

async function list(_opts: unknown, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const overview = await connect(g).certificates();
  if (g.json) return printJson(overview);
  const now = Date.now();
  printTable(certificateRows(overview.certificates, now), CERTIFICATE_COLUMNS);
  for (const line of overviewLines(overview, now)) console.log(line);
}

export function registerCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description('HTTPS certificates at the edge: expiry, renewal, errors; own certificates; the local CA (docs/https.md)')
    .action(list);

  certs.command('list').description('certificates with source, status, expiry, next renewal and issuer; failed attempts with their error').action(list);

  certs
    .command('add')
    .description('serve your own certificate for a domain (e.g. a Cloudflare origin certificate); validated first, never renewed by Slipway')
    .requiredOption('--domain <domain>', 'the domain it serves (the certificate must cover it)')
    .requiredOption('--cert <file>', 'PEM certificate chain, leaf first')
    .requiredOption('--key <file>', 'PEM private key of the leaf (unencrypted)')
    .addHelpText('after', '\nChecked before anything changes: the key matches the leaf, the chain is in order, the certificate\ncovers the domain, is for TLS servers and is valid now. A refused certificate leaves the one\nserving as it was. It replaces an ACME or local certificate of the domain until you remove it.')
    .action(async (opts: { domain: string; cert: string; key: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const body = { domain: opts.domain.trim().toLowerCase(), cert: readPem('--cert', opts.cert), key: readPem('--key', opts.key) };
      const { certificate } = await connect(g).addCertificate(body).catch((err: unknown) => refused(err));
      if (g.json) return printJson(certificate);
      for (const line of installedLines(certificate, Date.now())) console.log(line);
    });

  certs
    .command('renew')
    .description('obtain or renew the certificate of a domain now (ACME, or the local CA for *.localhost), whatever its schedule')
    .argument('<domain>', 'a domain a service routes (or SLIPWAY_DOMAIN)')
    .action(async (domainArg: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const domain = domainArg.trim().toLowerCase();
      const client = connect(g);
      if (!g.json) console.error(`renewing ${domain}…`);
      const { certificate } = await client.renewCertificate(domain).catch(async (err: unknown) => {
        // A failed order is recorded: say when Slipway tries again by itself.
        const recorded = err instanceof ApiError && ![400, 401, 403, 404, 409].includes(err.status);
        const rec = recorded ? await client.certificates().then((o) => o.certificates.find((c) => c.domain === domain), () => undefined) : undefined;
        const retry = rec?.nextAttemptAt ? [`  attempt ${rec.failures} failed; Slipway tries again by itself at ${instant(rec.nextAttemptAt)} (in ${span(Date.parse(rec.nextAttemptAt) - Date.now())})`] : [];
        return refused(err, retry);
      });
      if (g.json) return printJson(certificate);
      for (const line of renewedLines(certificate, Date.now())) console.log(line);
    });

  certs
    .command('remove')
    .description("forget a domain's certificate and take it off the edge; a domain still routed gets an ACME or local one at the next pass")
    .argument('<domain>', 'the domain of the certificate')
    .action(async (domainArg: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).removeCertificate(domainArg.trim().toLowerCase());
      if (g.json) return printJson(res);
      console.log(`removed the certificate of ${res.removed} from the edge and the store`);
      console.log('if a service still routes it, Slipway obtains a new one (ACME, or the local CA for *.localhost) at its next pass');
    });

  certs
    .command('ca')
    .description('the local development CA (certificates for *.localhost) and the commands that trust it')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { localCa } = await connect(g).certificates();
      if (g.json) return printJson(localCa);
      for (const line of localCaLines(localCa)) console.log(line);
    });
}
