import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCidr, freeSubnets, gatewayOf, overlaps, parseCidr, parseSubnetPool, subnetCount } from './subnet-pool';

const cidr = (t: string) => parseCidr(t)!;

test('CIDRs parse to their network range; overlap is range intersection', () => {
  assert.equal(formatCidr(cidr('10.213.4.0/24')), '10.213.4.0/24');
  assert.equal(formatCidr(cidr('172.18.5.7/16')), '172.18.0.0/16', 'host bits dropped');
  assert.equal(parseCidr('fd00::/64'), null, 'IPv6 is never ours');
  assert.equal(parseCidr('10.0.0.256/24'), null);
  assert.equal(overlaps(cidr('10.213.0.0/16'), cidr('10.213.7.0/24')), true);
  assert.equal(overlaps(cidr('10.213.7.0/24'), cidr('10.213.0.0/16')), true);
  assert.equal(overlaps(cidr('10.213.7.0/24'), cidr('10.213.8.0/24')), false);
  assert.equal(overlaps(cidr('10.213.7.128/25'), cidr('10.213.7.0/24')), true);
  assert.equal(gatewayOf(cidr('10.213.9.0/24')), '10.213.9.1');
});

test('free /24s skip every subnet in use, also partly overlapping ones, in address order', () => {
  const pool = parseSubnetPool('10.213.0.0/22');
  assert.equal(subnetCount(pool), 4);
  assert.deepEqual(freeSubnets(pool, []).map(formatCidr), ['10.213.0.0/24', '10.213.1.0/24', '10.213.2.0/24', '10.213.3.0/24']);
  const inUse = [cidr('10.213.0.0/24'), cidr('10.213.2.64/26'), cidr('172.17.0.0/16')];
  assert.deepEqual(freeSubnets(pool, inUse).map(formatCidr), ['10.213.1.0/24', '10.213.3.0/24']);
  assert.deepEqual(freeSubnets(pool, [cidr('10.0.0.0/8')]), [], 'a wider network covering the pool leaves nothing');
  assert.deepEqual(freeSubnets(parseSubnetPool('10.9.9.0/24'), []).map(formatCidr), ['10.9.9.0/24']);
});

test('a bad pool setting names the variable and what is expected', () => {
  for (const bad of ['10.213.0.0/25', '10.213.0.0', '10.213.1.0/16', 'fd00::/48', 'banana']) {
    assert.throws(() => parseSubnetPool(bad), (err: Error & { code?: string; details?: Array<{ path?: string }> }) => {
      assert.equal(err.code, 'SLW_CONFIG_INVALID');
      assert.match(err.message, /^SLIPWAY_SUBNET_POOL: expected an IPv4 range of \/24 or larger/);
      assert.equal(err.details?.[0]?.path, 'SLIPWAY_SUBNET_POOL');
      return true;
    }, bad);
  }
});
