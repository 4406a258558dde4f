// A node:test reporter that writes, when the run ends, each test file's wall time (first to
// last event of the file), its test count and failures, slowest first. The integration lane
// runs files side by side, so this is where its time goes; scripts/test.sh prints the top.
export default async function* fileTimes(source) {
  const files = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    if (!file) continue;
    const now = Date.now();
    const f = files.get(file) ?? { first: now, last: now, tests: 0, failed: 0 };
    f.last = now;
    // Top-level tests only (nesting 0): suites' children are counted by their suite.
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0) f.tests++;
    if (event.type === 'test:fail' && event.data.nesting === 0) f.failed++;
    files.set(file, f);
  }
  const rows = [...files.entries()].sort((a, b) => b[1].last - b[1].first - (a[1].last - a[1].first));
  for (const [file, f] of rows) {
    yield `${((f.last - f.first) / 1000).toFixed(1).padStart(7)} s  ${String(f.tests).padStart(3)} tests${f.failed ? ` (${f.failed} failed)` : ''}  ${file.replace(`${process.cwd()}/`, '')}\n`;
  }
}
