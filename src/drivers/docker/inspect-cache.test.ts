import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import type { Replica } from '../../core/ports/runtime';
import { InspectCache } from './replicas';

const listed = (State: string, Status: string) => ({ Id: 'c1', State, Status }) as Docker.ContainerInfo;
const replica = (state: Replica['state']) => ({ id: 'c1', state }) as Replica;

test('a running container listed with the same health reuses its inspection until it expires', () => {
  const cache = new InspectCache(1000);
  cache.put(listed('running', 'Up 3 seconds (healthy)'), replica('running'), 0);
  assert.ok(cache.get(listed('running', 'Up 9 seconds (healthy)'), 500), 'same state and health: hit');
  assert.equal(cache.get(listed('running', 'Up 9 seconds (unhealthy)'), 500), null, 'health changed: inspect again');
  assert.equal(cache.get(listed('exited', 'Exited (0) 1 second ago'), 500), null, 'stopped: inspect again');
  assert.equal(cache.get(listed('running', 'Up 9 seconds (healthy)'), 1500), null, 'expired');
});

test('only running containers are kept; anything else forgets the entry', () => {
  const cache = new InspectCache(1000);
  cache.put(listed('created', 'Created'), replica('created'), 0);
  assert.equal(cache.get(listed('created', 'Created'), 1), null);
  cache.put(listed('running', 'Up 1 second'), replica('running'), 0);
  cache.put(listed('exited', 'Exited (137)'), replica('exited'), 1);
  assert.equal(cache.get(listed('running', 'Up 1 second'), 2), null);
});
