/**
 * The certificates part of the Store contract (the CertificateStore role of the port);
 * registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runCertificateContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);

  describe('certificates', () => {
    const record = {
      domain: 'shop.example.com',
      source: 'acme' as const,
      status: 'pending' as const,
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

    test('put creates then replaces by domain, keeping created_at; its event lands in the outbox with it', async (t) => {
      const { store } = await fresh(t);
      const first = await store.putCertificate(record);
      assert.equal(first.status, 'pending');
      const issued = await store.putCertificate(
        { ...record, status: 'valid', certPem: 'PEM', keyId: 'k1', sealedKey: 's1', domains: ['shop.example.com', 'www.shop.example.com'], notAfter: '2027-01-01T00:00:00.000Z', renewAt: '2026-11-01T00:00:00.000Z' },
        { type: 'certificate.issued', project: null, payload: { domain: 'shop.example.com' } },
      );
      assert.equal(issued.createdAt, first.createdAt);
      assert.deepEqual(issued.domains, ['shop.example.com', 'www.shop.example.com']);
      assert.deepEqual(await store.getCertificate('shop.example.com'), issued);
      assert.deepEqual((await store.listOutbox(0, 10)).map((e) => e.type), ['certificate.issued']);
      await store.putCertificate({ ...record, domain: 'a.example.com' });
      assert.deepEqual((await store.listCertificates()).map((c) => c.domain), ['a.example.com', 'shop.example.com']);
      await store.resealCertificates([{ domain: 'shop.example.com', keyId: 'k2', sealedKey: 's2' }]);
      assert.deepEqual(await store.getCertificate('shop.example.com').then((c) => [c?.keyId, c?.sealedKey]), ['k2', 's2']);
      assert.equal(await store.deleteCertificate('shop.example.com'), true);
      assert.equal(await store.deleteCertificate('shop.example.com'), false);
      assert.equal(await store.getCertificate('shop.example.com'), null);
    });
  });
}
