import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainedServers, parseBackendNames, parseMapEntries, parseServers, parseShowProc, serverSessions } from './runtime-replies';

// Trimmed to the columns that matter; HAProxy 2.6 prints about 100.
const stat = [
  '# pxname,svname,qcur,qmax,scur,smax,weight,status,addr,',
  'be_one,a,0,0,2,3,1,no check,10.0.0.2:3000,',
  'be_one,b,1,1,0,2,1,DRAIN,10.0.0.3:3000,',
  'be_one,c,0,0,0,0,1,MAINT,[fd00::4]:3000,',
  'be_one,d,0,0,0,0,0,no check,10.0.0.5:3000,',
  'be_one,e,0,0,0,0,3,UP,10.0.0.6:3000,',
  '',
].join('\n');

test('show stat: state, address and active sessions of each server', () => {
  assert.deepEqual(parseServers(stat, 'be_one'), [
    { name: 'a', address: '10.0.0.2', port: 3000, state: 'ready', weight: 1, activeSessions: 2 },
    { name: 'b', address: '10.0.0.3', port: 3000, state: 'drain', weight: 1, activeSessions: 1 },
    { name: 'c', address: 'fd00::4', port: 3000, state: 'maint', weight: 1, activeSessions: 0 },
    // Up with weight 0: standby (no new requests; a weight change brings it back).
    { name: 'd', address: '10.0.0.5', port: 3000, state: 'standby', weight: 0, activeSessions: 0 },
    { name: 'e', address: '10.0.0.6', port: 3000, state: 'ready', weight: 3, activeSessions: 0 },
  ]);
  assert.deepEqual(parseServers('No such proxy.\n', 'be_x'), []);
  assert.equal(serverSessions(stat, 'be_one', 'a'), 2);
  assert.equal(serverSessions(stat, 'be_one', 'zz'), 0);
});

test('show proc: master, reload counters, current and old workers', () => {
  const text = [
    '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
    '7171            master          5 [failed: 0]   0d00h00m59s     2.6.12-1+deb12u4',
    '# workers',
    '7576            worker          0               0d00h00m00s     2.6.12-1+deb12u4',
    '# old workers',
    '7494            worker          1               0d00h00m07s     2.6.12-1+deb12u4',
    '# programs',
    '',
  ].join('\n');
  assert.deepEqual(parseShowProc(text), { masterPid: 7171, reloads: 5, failedReloads: 0, version: '2.6.12-1+deb12u4', workerPids: [7576], oldWorkerPids: [7494] });
  assert.equal(parseShowProc(text.replace('[failed: 0]', '[failed: 1]')).failedReloads, 1);
});

test('show backend and show map', () => {
  assert.deepEqual(parseBackendNames('# name\nbe_a\nbe_b\n\n'), ['be_a', 'be_b']);
  assert.deepEqual(parseMapEntries('0x561af7bd0590 a.localhost be_a\n0x7fd2680468b0 b.localhost be_b\n\n'), [
    { key: 'a.localhost', value: 'be_a' },
    { key: 'b.localhost', value: 'be_b' },
  ]);
});

test('show stat with edge health checks: up, going down (still up), down, coming back (still down), drained', () => {
  // Real HAProxy 2.6.12 rows, trimmed to the columns that matter.
  const checked = [
    '# pxname,svname,scur,qcur,weight,status,lastchg,check_status,addr,',
    'be_c,a,1,0,1,UP,40,L7OK,10.0.0.2:3000,',
    'be_c,b,0,0,1,UP 1/3,12,L7STS,10.0.0.3:3000,',
    'be_c,c,0,0,1,DOWN,26,L7STS,10.0.0.4:3000,',
    'be_c,d,0,0,1,DOWN 1/2,7,L7OK,10.0.0.5:3000,',
    'be_c,e,0,0,0,UP,3,L7OK,10.0.0.6:3000,',
    'be_c,f,0,0,1,DRAIN,2,L7OK,10.0.0.7:3000,',
    // Added at runtime, checks enabled, first check not done yet: up.
    'be_c,g,0,0,1,UP -1/3,0,INI,10.0.0.8:3000,',
    'be_c,h,0,0,1,no check,5,,10.0.0.9:3000,',
    '',
  ].join('\n');
  const got = parseServers(checked, 'be_c').map((s) => [s.name, s.state, s.health, s.healthChangedSecondsAgo]);
  assert.deepEqual(got, [
    ['a', 'ready', 'up', 40],
    ['b', 'ready', 'up', 12],
    ['c', 'ready', 'down', 26],
    ['d', 'ready', 'down', 7],
    ['e', 'standby', 'up', 3],
    ['f', 'drain', 'up', 2],
    ['g', 'ready', 'up', 0],
    ['h', 'ready', undefined, undefined],
  ]);
});

test('show servers state: drained servers (a drained server failing its checks says DOWN in show stat)', () => {
  const reply = [
    '1',
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change',
    '3 be_x 1 s1 127.0.0.1 2 0 1 1 40 15 3 4 6 0 0 0 - 18081 - 0 0 - - 0',
    '3 be_x 3 s3 127.0.0.1 0 8 1 1 4 17 2 0 6 0 0 0 - 18082 - 0 0 - - 0',
    '4 be_y 1 s1 127.0.0.1 0 16 1 1 4 17 2 0 6 0 0 0 - 18082 - 0 0 - - 0',
    '4 be_y 2 s2 127.0.0.1 0 1 1 1 4 17 2 0 6 0 0 0 - 18082 - 0 0 - - 0',
    '',
  ].join('\n');
  assert.deepEqual([...drainedServers(reply)].sort(), ['be_x/s3', 'be_y/s1']);
  assert.deepEqual([...drainedServers('No such backend.\n')], []);
});
