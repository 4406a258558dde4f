import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeTemplate } from './route-template';
import { OTHER_ROUTE, RouteLimiter } from './route-limiter';

test('numeric, uuid and long hex segments collapse to :id; the query string is dropped', () => {
  assert.equal(routeTemplate('/'), '/');
  assert.equal(routeTemplate(''), '/');
  assert.equal(routeTemplate('/?a=1'), '/');
  assert.equal(routeTemplate('/users/42'), '/users/:id');
  assert.equal(routeTemplate('/users/42/orders/7?expand=1'), '/users/:id/orders/:id');
  assert.equal(routeTemplate('/o/6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f'), '/o/:id');
  assert.equal(routeTemplate('/o/6F1C2B8E-1D2A-4C3B-9E8F-0A1B2C3D4E5F/x'), '/o/:id/x');
  assert.equal(routeTemplate('/blob/507f1f77bcf86cd799439011'), '/blob/:id');
  assert.equal(routeTemplate('/commit/da39a3ee5e6b4b0d3255bfef95601890afd80709'), '/commit/:id');
  assert.equal(routeTemplate('/api/v2/items'), '/api/v2/items', 'v2 is not an id');
  assert.equal(routeTemplate('/static/app.3f2a.js'), '/static/app.3f2a.js', 'short hex inside a name is kept');
  assert.equal(routeTemplate('/words/deadbeefcafebabe'), '/words/deadbeefcafebabe', 'hex letters without a digit are a word');
  assert.equal(routeTemplate('/a/b/'), '/a/b/');
  assert.equal(routeTemplate('/x#frag'), '/x');
  assert.equal(routeTemplate(`/${'a'.repeat(500)}`).length, 200);
});

test('a bounded number of routes per service; overflow is "other", per service', () => {
  const limiter = new RouteLimiter(2);
  assert.equal(limiter.admit('p/web/production', '/a'), '/a');
  assert.equal(limiter.admit('p/web/production', '/b'), '/b');
  assert.equal(limiter.admit('p/web/production', '/c'), OTHER_ROUTE);
  assert.equal(limiter.admit('p/web/production', '/a'), '/a', 'known routes stay themselves');
  assert.equal(limiter.admit('p/api/production', '/c'), '/c', 'another service has its own budget');
  assert.throws(() => new RouteLimiter(0));
});
