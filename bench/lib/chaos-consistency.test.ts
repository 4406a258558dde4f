import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inconsistencies, parseServersState, type ConsistencyFacts } from './chaos-consistency';

const server = (name: string, over: Partial<{ up: boolean; ready: boolean; weight: number }> = {}) => ({ name, up: true, ready: true, weight: 1, ...over });
const good = (): ConsistencyFacts => ({
  live: { number: 3, replicas: 2 },
  containers: [
    { name: 'p-web-v3-a', running: true, release: 3 },
    { name: 'p-web-v3-b', running: true, release: 3 },
  ],
  edge: [server('p-web-v3-a'), server('p-web-v3-b')],
  activeDeployments: [],
});

test('a consistent service has no problem', () => {
  assert.deepEqual(inconsistencies(good()), []);
});

test('each kind of inconsistency is named', () => {
  const f = good();
  f.containers[1] = { name: 'p-web-v3-b', running: false, release: 3 };
  f.containers.push({ name: 'p-web-v2-z', running: true, release: 2 });
  f.edge = [server('p-web-v3-a', { ready: false }), server('p-web-v2-gone')];
  f.activeDeployments = ['d9'];
  const p = inconsistencies(f).join('\n');
  assert.match(p, /deployment\(s\) still running: d9/);
  assert.match(p, /orphan containers: p-web-v3-b \(v3, not running\), p-web-v2-z \(v2, running\)/);
  assert.match(p, /1 running replica\(s\) of v3, its release asks for 2/);
  assert.match(p, /edge server\(s\) without a live replica: p-web-v2-gone/);
  assert.match(p, /edge server\(s\) not serving: p-web-v3-a \(up, drain\/maint, weight 1\)/);
});

test('a replica missing from the edge, or an edge that does not answer, is inconsistent', () => {
  const f = good();
  f.edge = [server('p-web-v3-a')];
  assert.deepEqual(inconsistencies(f), ['replica(s) absent from the edge: p-web-v3-b']);
  f.edge = null;
  assert.deepEqual(inconsistencies(f), ['the edge does not answer']);
  assert.deepEqual(inconsistencies({ ...good(), live: null }), ['no live release']);
});

test('parseServersState reads HAProxy 2.6 "show servers state" by its header', () => {
  const reply = [
    '1',
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
    '3 be_p_web_production 1 p-web-v3-a 172.18.0.2 2 0 1 1 12 1 0 0 0 0 0 0 - 3000 - 0 0 - - 0',
    '3 be_p_web_production 2 p-web-v3-b 172.18.0.3 0 8 0 1 12 1 0 0 0 0 0 0 - 3000 - 0 0 - - 0',
    '',
  ].join('\n');
  assert.deepEqual(parseServersState(reply), [
    { name: 'p-web-v3-a', up: true, ready: true, weight: 1 },
    { name: 'p-web-v3-b', up: false, ready: false, weight: 0 },
  ]);
  assert.deepEqual(parseServersState('1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight\n'), []);
  assert.throws(() => parseServersState('Unknown command'), /unexpected "show servers state" reply/);
});
