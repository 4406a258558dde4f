import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBackendNames, parseMapEntries, parseServers, parseShowProc, serverSessions } from './runtime-replies';

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
