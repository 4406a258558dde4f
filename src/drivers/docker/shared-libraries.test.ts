import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLddOutput, sharedLibraries } from './shared-libraries';
import { readElf } from './elf';

const SAMPLE = `	linux-vdso.so.1 (0x00007ff71d77a000)
	libdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007ff71d764000)
	libstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007ff71d400000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff71d21e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007ff71d77c000)
`;

test('ldd output gives every library and the loader, without the vDSO', () => {
  assert.deepEqual(parseLddOutput(SAMPLE, 'node'), [
    '/lib/x86_64-linux-gnu/libc.so.6',
    '/lib/x86_64-linux-gnu/libdl.so.2',
    '/lib/x86_64-linux-gnu/libstdc++.so.6',
    '/lib64/ld-linux-x86-64.so.2',
  ]);
});

test('a missing library is a clear host error', () => {
  assert.throws(() => parseLddOutput('\tlibfoo.so.1 => not found\n', 'app'), { code: 'SLW_HOST_MISSING', message: /libfoo\.so\.1/ });
});

test('this host: node is dynamically linked and its loader is among its libraries', async () => {
  const elf = await readElf(process.execPath);
  assert.ok(elf, 'node is an ELF binary');
  const libs = await sharedLibraries(process.execPath);
  if (elf.interpreter) assert.ok(libs.includes(elf.interpreter), `${elf.interpreter} in ${libs.join(', ')}`);
  assert.equal(await readElf(import.meta.filename), null, 'a text file is not ELF');
});
