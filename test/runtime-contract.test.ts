/**
 * The Runtime contract (src/testing/runtime-contract.ts) against the real Docker engine: the
 * cases the memory engine passes in the unit lane, held here to what Docker does. Busybox from
 * the offline static image plays every command; the engine itself is never stopped (the
 * harness cannot: other suites share dockerd), so that case is skipped here.
 *
 * Run: node --import tsx --test test/runtime-contract.test.ts
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createStaticBaseImage } from '../src/drivers/docker/base-images';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { httpProbe } from '../src/drivers/probe/http-probe';
import { tcpProbe } from '../src/drivers/probe/tcp-probe';
import { runRuntimeContract } from '../src/testing/runtime-contract';
import { removeTestContainers } from './support/docker-cleanup';

const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-rc-${suffix}`;
const project = `rc${suffix}`;
const logger = pino({ level: 'silent' });
const STATIC = 'slipway/static:latest';

runRuntimeContract('docker', async () => {
  const runtime = new DockerRuntime({ network, logger });
  const unreachable: DockerRuntime[] = [];
  await runtime.ping();
  if (!(await runtime.inspectImage(STATIC))) await createStaticBaseImage(runtime);
  return {
    runtime,
    project,
    image: { ref: STATIC, port: 8080, healthPath: '/index.html' },
    // The values are positional parameters of busybox sh, never part of its script.
    exitCommand: (code, line) => ['sh', '-c', 'echo "$1"; exit "$2"', 'sh', line, String(code)],
    hangCommand: ['sleep', '600'],
    async writeFile(containerId, file, content, mode) {
      const r = await runtime.exec(containerId, ['sh', '-c', 'printf "%s" "$1" > "$2" && chmod "$3" "$2"', 'sh', content, file, mode.toString(8)], { timeoutMs: 10_000 });
      if (r.exitCode !== 0) throw new Error(`writing ${file} in ${containerId.slice(0, 12)} failed (exit ${r.exitCode}): ${r.output}`);
    },
    probe: { http: httpProbe, tcp: tcpProbe },
    unreachable() {
      const nowhere = new DockerRuntime({ socketPath: path.join(os.tmpdir(), `slipway-no-docker-${suffix}.sock`), network, logger });
      unreachable.push(nowhere);
      return nowhere;
    },
    canStopDaemon: false,
    async cleanup() {
      for (const r of unreachable) r.close();
      runtime.close();
      await removeTestContainers(network);
      // Tags a failed case may have left on the static image (`slipway/<project>…`).
      const images = await runtime.docker.listImages();
      const tags = images.flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`slipway/${project}`));
      await Promise.all(tags.map((t) => runtime.docker.getImage(t).remove().catch(() => undefined)));
    },
  };
});
