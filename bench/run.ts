/** `npm run bench -- <name>`: runs one benchmark from bench/<name>.ts. */
const BENCHES = ['zero-downtime', 'build-once', 'resource-stats', 'metrics-query', 'metrics-ingest', 'blue-green', 'canary', 'status-scale', 'footprint', 'scale', 'deploy-latency', 'edge-overhead', 'chaos', 'stack', 'backups'] as const;
const name = process.argv[2];
if (!name || !(BENCHES as readonly string[]).includes(name)) {
  console.error(`usage: npm run bench -- <name>\nbenchmarks: ${BENCHES.join(', ')}`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { main: (args: string[]) => Promise<void> };
await mod.main(process.argv.slice(3));
export {};
