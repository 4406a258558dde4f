import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMeminfo } from './meminfo';
import { parseProcStat } from './proc-stat';
import { ProcHostProbe } from './proc-host-probe';

// /proc/stat of a 2-CPU host (Linux 6.1), trimmed after the cpu lines.
const PROC_STAT = `cpu  1086627 0 194761 4840172 9121 0 18372 4135 0 0
cpu0 504732 0 91699 2467575 1491 0 8784 1980 0 0
cpu1 581895 0 103061 2372597 7629 0 9588 2155 0 0
intr 21237144 0 0 0
ctxt 47536072
btime 1795410637
`;

// A guest-heavy host: guest (9th field) is already part of user and must not count twice.
const PROC_STAT_GUEST = `cpu  500 0 100 300 100 0 0 0 400 0
cpu0 500 0 100 300 100 0 0 0 400 0
`;

const MEMINFO = `MemTotal:       24683656 kB
MemFree:        23720244 kB
MemAvailable:   24146384 kB
Buffers:            2600 kB
Cached:           452344 kB
SwapCached:            0 kB
HugePages_Total:       0
`;

test('/proc/stat: busy = total − idle − iowait over the first 8 fields; CPUs counted', () => {
  const { cpu, cpus } = parseProcStat(PROC_STAT);
  const total = 1086627 + 0 + 194761 + 4840172 + 9121 + 0 + 18372 + 4135;
  assert.deepEqual(cpu, { busy: total - 4840172 - 9121, total });
  assert.equal(cpus, 2);
  assert.deepEqual(parseProcStat(PROC_STAT_GUEST).cpu, { busy: 600, total: 1000 });
});

test('/proc/stat without a cpu line is a clear error', () => {
  assert.throws(() => parseProcStat('intr 1 2 3\n'), /no aggregate "cpu" line/);
  assert.throws(() => parseProcStat('cpu  a b c d\n'), /cannot read the cpu line/);
});

test('/proc/meminfo: MemTotal and MemAvailable in bytes; older kernels fall back to free + buffers + cached', () => {
  assert.deepEqual(parseMeminfo(MEMINFO), { totalBytes: 24683656 * 1024, availableBytes: 24146384 * 1024 });
  const old = MEMINFO.split('\n').filter((l) => !l.startsWith('MemAvailable')).join('\n');
  assert.deepEqual(parseMeminfo(old), { totalBytes: 24683656 * 1024, availableBytes: (23720244 + 2600 + 452344) * 1024 });
  assert.throws(() => parseMeminfo('MemFree: 1 kB\n'), /no MemTotal/);
});

test('the probe reads proc files and measures the disk as df does', async () => {
  const proc = mkdtempSync(path.join(os.tmpdir(), 'slipway-proc-'));
  writeFileSync(path.join(proc, 'stat'), PROC_STAT);
  writeFileSync(path.join(proc, 'meminfo'), MEMINFO);
  const dir = os.tmpdir();
  const r = await new ProcHostProbe({ diskPath: dir, procDir: proc }).read();
  assert.equal(r.cpus, 2);
  assert.equal(r.memoryAvailableBytes, 24146384 * 1024);
  const [size, used, avail] = execFileSync('df', ['-B1', '--output=size,used,avail', dir], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  // df reads statfs at another instant: allow 64 MiB of other writers in between.
  assert.equal(r.disk.totalBytes, size);
  assert.ok(Math.abs(r.disk.usedBytes - used!) < 64 * 1024 ** 2, `used ${r.disk.usedBytes} vs df ${used}`);
  assert.ok(Math.abs(r.disk.availableBytes - avail!) < 64 * 1024 ** 2, `avail ${r.disk.availableBytes} vs df ${avail}`);
});

test('the real /proc answers', async () => {
  const r = await new ProcHostProbe({ diskPath: '/' }).read();
  assert.equal(r.cpus, os.cpus().length);
  assert.equal(r.memoryTotalBytes, os.totalmem());
  assert.ok(r.cpu.total > r.cpu.busy && r.cpu.busy > 0);
});

test('a missing proc directory is a coded error', async () => {
  await assert.rejects(new ProcHostProbe({ diskPath: '/', procDir: '/nonexistent-proc' }).read(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_INTERNAL');
    assert.match(err.message, /cannot read host stats: .*nonexistent-proc/);
    return true;
  });
});
