/**
 * The pebble harness (test/support/pebble.ts) against the real pebble 2.4 from Debian:
 * a real ACME order with acme-client whose HTTP-01 challenge is answered by a node:http
 * server on 127.0.0.1:<httpPort>, the issued chain checked against issuingRoots(),
 * certificateValidityPeriod, the CA going away and coming back on the same ports, and
 * the child processes dying with the test process. Everything stays on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';
import acme from 'acme-client';
import { Pebble } from './support/pebble';
import { freePort } from './support/free-port';

const NAME = 'app.pebble.test';

/** The HTTP-01 responder: what the edge does on its HTTP port. */
const keyAuthorizations = new Map<string, string>();
const challengeRequests: Array<{ url: string; host: string | undefined; localAddress: string | undefined }> = [];
const responder = http.createServer((req, res) => {
  challengeRequests.push({ url: req.url ?? '', host: req.headers.host, localAddress: req.socket.localAddress });
  const m = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
  const ka = m ? keyAuthorizations.get(m[1]!) : undefined;
  res.statusCode = ka ? 200 : 404;
  res.end(ka ?? 'no such token');
});

let httpPort = 0;
let pebble: Pebble;

before(async () => {
  httpPort = await freePort();
  await new Promise<void>((resolve, reject) => {
    responder.once('error', reject);
    responder.listen(httpPort, '127.0.0.1', () => resolve());
  });
  pebble = await Pebble.start({ httpPort, validitySeconds: 90 });
  // acme-client talks to pebble through its own axios instance: trust pebble's listener CA
  // there (NODE_EXTRA_CA_CERTS is read at process start only), never through a proxy.
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(pebble.caFile) });
  acme.axios.defaults.proxy = false;
});

after(async () => {
  await pebble?.stop();
  await new Promise((r) => responder.close(r));
});

async function newClient(p: Pebble, accountKey?: Buffer): Promise<acme.Client> {
  const client = new acme.Client({ directoryUrl: p.directoryUrl, accountKey: accountKey ?? (await acme.crypto.createPrivateEcdsaKey()) });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

/** One ACME order for `name` answered over HTTP-01; returns the PEM chain as downloaded. */
async function issue(client: acme.Client, name = NAME): Promise<string> {
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
  for (const authz of await client.getAuthorizations(order)) {
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    assert.ok(challenge, `an http-01 challenge is offered: ${JSON.stringify(authz.challenges.map((c) => c.type))}`);
    keyAuthorizations.set(challenge.token, await client.getChallengeKeyAuthorization(challenge));
    try {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    } finally {
      keyAuthorizations.delete(challenge.token);
    }
  }
  const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey());
  return client.getCertificate(await client.finalizeOrder(order, csr));
}

function splitPem(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

/** Asserts leaf <- intermediate <- self-signed root, using the roots pebble publishes. */
function assertChainsTo(chainPem: string, rootsPem: string): X509Certificate {
  const chain = splitPem(chainPem);
  const [root, intermediate] = splitPem(rootsPem);
  assert.ok(root && intermediate, 'issuingRoots() gives root + intermediate');
  assert.equal(chain.length, 2, 'the download holds leaf + intermediate');
  const leaf = chain[0]!;
  assert.equal(chain[1]!.fingerprint256, intermediate.fingerprint256, 'the intermediate served is the one pebble publishes');
  assert.ok(leaf.verify(intermediate.publicKey), 'the leaf is signed by the intermediate');
  assert.ok(intermediate.verify(root.publicKey), 'the intermediate is signed by the root');
  assert.ok(root.verify(root.publicKey) && root.ca, 'the root is a self-signed CA');
  assert.equal(leaf.checkIssued(intermediate), true);
  return leaf;
}

const lifetimeSeconds = (c: X509Certificate): number => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 1000;

test('a real ACME order: HTTP-01 answered on 127.0.0.1:<httpPort>, the chain ends at issuingRoots()', async (t) => {
  assert.match(pebble.directoryUrl, /^https:\/\/127\.0\.0\.1:\d+\/dir$/);
  const listenerCa = new X509Certificate(readFileSync(pebble.caFile));
  assert.ok(listenerCa.ca, 'caFile is the CA of the listener');

  challengeRequests.length = 0;
  const started = Date.now();
  const chainPem = await issue(await newClient(pebble));
  const leaf = assertChainsTo(chainPem, await pebble.issuingRoots());
  t.diagnostic(`order issued in ${Date.now() - started} ms (PEBBLE_VA_NOSLEEP)`);
  assert.equal(leaf.subjectAltName, `DNS:${NAME}`);
  assert.ok(leaf.checkHost(NAME));
  // Issued certificates are not signed by the listener CA.
  assert.equal(leaf.verify(listenerCa.publicKey), false);

  // What the validator sent: 3 requests per challenge, on IPv4, with the port in Host.
  assert.ok(challengeRequests.length >= 1, pebble.logTail());
  for (const r of challengeRequests) {
    assert.match(r.url, /^\/\.well-known\/acme-challenge\/[A-Za-z0-9_-]+$/);
    assert.equal(r.host, `${NAME}:${httpPort}`);
    assert.equal(r.localAddress, '127.0.0.1');
  }
  assert.equal(challengeRequests.length, 3, 'pebble 2.4 validates each challenge 3 times');

  // validitySeconds: notAfter = notBefore + N - 1 s; notBefore = now (not backdated).
  assert.equal(lifetimeSeconds(leaf), 89);
  // Not backdated: notBefore is the issuance (a loose bound: this is about dates, not speed).
  assert.ok(Math.abs(Date.parse(leaf.validFrom) - started) < 60_000, `notBefore ${leaf.validFrom}`);
});

test('a wrong key authorization fails the order with the validator message', async () => {
  const client = await newClient(pebble);
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'wrong.pebble.test' }] });
  const [authz] = await client.getAuthorizations(order);
  const challenge = authz!.challenges.find((c) => c.type === 'http-01')!;
  keyAuthorizations.set(challenge.token, 'not-the-key-authorization');
  try {
    await client.completeChallenge(challenge);
    await assert.rejects(client.waitForValidStatus(challenge), /key authorization|expected/i);
  } finally {
    keyAuthorizations.delete(challenge.token);
  }
});

test('without validitySeconds pebble issues 5-year certificates', async () => {
  const port = await freePort();
  const srv = http.createServer((req, res) => {
    const token = (req.url ?? '').split('/').pop() ?? '';
    res.end(keyAuthorizations.get(token) ?? '');
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  const p = await Pebble.start({ httpPort: port });
  try {
    const prev = acme.axios.defaults.httpsAgent as https.Agent;
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: p.caPem });
    try {
      const leaf = assertChainsTo(await issue(await newClient(p), 'long.pebble.test'), await p.issuingRoots());
      assert.equal(lifetimeSeconds(leaf), 1826 * 86400 - 1, 'pebble: 157766400 s, minus the 1 s of every validity period');
    } finally {
      acme.axios.defaults.httpsAgent = prev;
    }
  } finally {
    await p.stop();
    await new Promise((r) => srv.close(r));
  }
});

test('stopPebbleOnly / startPebbleAgain: refused while down, same URL after, new roots, accounts forgotten', async () => {
  const accountKey = await acme.crypto.createPrivateEcdsaKey();
  const client = await newClient(pebble, accountKey);
  const rootsBefore = await pebble.issuingRoots();
  const pids = pebble.pids;
  assert.ok(pids.pebble && pids.challtestsrv);

  await pebble.stopPebbleOnly();
  assert.equal(pebble.pids.pebble, undefined);
  assert.equal(pebble.pids.challtestsrv, pids.challtestsrv, 'DNS keeps running');
  await assert.rejects(fetch(pebble.directoryUrl), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED');

  // An ACME call made while the CA is down succeeds once it is back (acme-client retries
  // refused connections; its default waits 5 s × attempt, shortened here).
  const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
  const saved = { ...settings };
  settings.retryMaxAttempts = 3;
  settings.retryDefaultDelay = 0.5;
  try {
    const fresh = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    const pending = fresh.createAccount({ termsOfServiceAgreed: true });
    await new Promise((r) => setTimeout(r, 300));
    await pebble.startPebbleAgain();
    assert.equal((await pending).status, 'valid');
  } finally {
    Object.assign(settings, saved);
  }
  assert.notEqual(pebble.pids.pebble, pids.pebble);

  const rootsAfter = await pebble.issuingRoots();
  assert.notEqual(rootsAfter, rootsBefore, 'root and intermediate are new on every start');
  // The old account is gone; the same key registers again through a new Client.
  await assert.rejects(client.createOrder({ identifiers: [{ type: 'dns', value: NAME }] }), /not found/);
  const again = await newClient(pebble, accountKey);
  assert.notEqual(again.getAccountUrl(), client.getAccountUrl());
  assertChainsTo(await issue(again), rootsAfter);
});

test('the children die with a test process that forgets stop()', async () => {
  const script = `
    import { Pebble } from ${JSON.stringify(pathToFileURL(new URL('./support/pebble.ts', import.meta.url).pathname).href)};
    const p = await Pebble.start({ httpPort: ${httpPort} });
    console.log(JSON.stringify(p.pids));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0, 'the process ends by itself: the harness does not hold the event loop');
  const pids = JSON.parse(out.trim()) as { pebble?: number; challtestsrv?: number };
  assert.ok(pids.pebble && pids.challtestsrv, out);
  // Gone, or a zombie waiting for whoever adopted it to reap it.
  const alive = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 3000;
  while ((alive(pids.pebble) || alive(pids.challtestsrv)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(pids.pebble), false, 'pebble was killed');
  assert.equal(alive(pids.challtestsrv), false, 'pebble-challtestsrv was killed');
});
