/**
 * `slipway install` / `slipway uninstall`: the control plane as a systemd service
 * (the unit itself: ../systemd-units.ts; docs/operations.md "Running as a system service").
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { GlobalOptions } from '../connection';
import { readServerInfo } from '../locations';
import { printJson } from '../output';
import { checkUnitSettings, ENV_FILE, renderInstallFiles, UNIT_DIR, UNIT_NAME, type UnitSettings } from '../systemd-units';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The system data directory, whoever the service runs as (the unit names it explicitly). */
const SYSTEM_DATA_DIR = '/var/lib/slipway';

interface InstallOptions {
  user: string;
  root?: string;
  dryRun?: boolean;
  start: boolean;
}

interface UninstallOptions {
  root?: string;
  stopEdge?: boolean;
}

type Systemd = 'running' | 'offline' | 'absent';

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('install slipway.service: the control plane starts at boot and restarts when it dies (the edge keeps serving)')
    .option('--user <name>', 'account the control plane and the edge run as', 'root')
    .option('--root <dir>', 'write the files under this directory instead of / (as systemctl --root; only an offline enable)')
    .option('--dry-run', 'print the files that would be written, change nothing')
    .option('--no-start', 'enable at boot only; do not start the control plane now')
    .action(async (opts: InstallOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const settings = unitSettings(g, opts.user);
      const problems = checkUnitSettings(settings);
      if (problems.length > 0) throw new CliError(`error: ${problems.join('\n  ')}`);
      const files = renderInstallFiles(settings);
      if (opts.dryRun) {
        if (g.json) return printJson({ dryRun: true, files: files.map((f) => ({ path: f.path, mode: f.mode.toString(8), content: f.content })) });
        for (const f of files) console.log(`# ${f.path} (mode ${f.mode.toString(8)}${f.keepExisting ? ', kept if it exists' : ''})\n${f.content}`);
        return;
      }
      const root = opts.root ? path.resolve(opts.root) : null;
      if (!root) requireRoot('install');
      const written: Array<{ path: string; action: 'written' | 'kept' }> = [];
      for (const f of files) {
        const target = inRoot(root, f.path);
        if (f.keepExisting && existsSync(target)) {
          written.push({ path: f.path, action: 'kept' });
          continue;
        }
        mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
        writeFileSync(target, f.content, { mode: f.mode });
        chmodSync(target, f.mode); // an existing file keeps its mode otherwise
        written.push({ path: f.path, action: 'written' });
      }
      const notes: string[] = [];
      if (!root && !existsSync(settings.dataDir)) {
        if (settings.user === 'root') mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
        else notes.push(`create the data directory for ${settings.user} first: install -d -m 0700 -o ${settings.user} ${settings.dataDir}`);
      }
      const systemd = systemdState(root);
      const ran: string[][] = [];
      if (systemd === 'offline') {
        if (await hasSystemctl()) await systemctl(ran, [`--root=${root}`, 'enable', UNIT_NAME]);
        else notes.push(`systemctl is not installed: enable ${UNIT_NAME} on the target system`);
      } else if (systemd === 'running') {
        await systemctl(ran, ['daemon-reload']);
        // The service itself (a reinstall after an upgrade) is not a second control plane.
        const running = (await unitActive()) ? null : foregroundControlPlane(settings.dataDir);
        if (opts.start && running) notes.push(`a control plane (pid ${running}) already runs on ${settings.dataDir}: stop it, then run systemctl start ${UNIT_NAME}`);
        await systemctl(ran, ['enable', ...(opts.start && !running ? ['--now'] : []), UNIT_NAME]);
      } else {
        notes.push(`systemd is not running here (no /run/systemd/system): on a systemd host run systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`);
      }
      if (g.json) return printJson({ files: written, systemd, ran: ran.map((a) => ['systemctl', ...a].join(' ')), notes });
      for (const w of written) console.log(`${w.action === 'written' ? 'wrote' : 'kept '} ${inRoot(root, w.path)}`);
      for (const a of ran) console.log(`ran   systemctl ${a.join(' ')}`);
      for (const n of notes) console.log(`note: ${n}`);
      console.log(`the control plane runs as ${UNIT_NAME} (data: ${settings.dataDir}); settings in ${ENV_FILE}; logs: journalctl -u slipway`);
    });

  program
    .command('uninstall')
    .description('stop, disable and remove slipway.service; the edge keeps serving and the data directory stays')
    .option('--root <dir>', 'remove the files under this directory instead of / (as systemctl --root)')
    .option('--stop-edge', 'also stop the running edge of the data directory: every app stops answering')
    .action(async (opts: UninstallOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const dataDir = dataDirOf(g);
      const root = opts.root ? path.resolve(opts.root) : null;
      if (!root) requireRoot('uninstall');
      const unit = inRoot(root, `${UNIT_DIR}/${UNIT_NAME}`);
      const systemd = systemdState(root);
      const ran: string[][] = [];
      const notes: string[] = [];
      // A control plane outside the unit would start the edge again at once: refuse before changing anything.
      if (opts.stopEdge && !(systemd === 'running' && (await unitActive()))) refuseIfControlPlaneRuns(dataDir);
      const installed = existsSync(unit);
      if (installed) {
        // With KillMode=process, stopping the unit stops the node process only: the edge keeps serving.
        if (systemd === 'running') await systemctl(ran, ['disable', '--now', UNIT_NAME]);
        else if (systemd === 'offline' && (await hasSystemctl())) await systemctl(ran, [`--root=${root}`, 'disable', UNIT_NAME]);
        rmSync(unit, { force: true });
        if (systemd === 'running') await systemctl(ran, ['daemon-reload']);
      } else {
        notes.push(`${unit} is not installed`);
      }
      let edge: 'stopped' | 'not running' | 'kept' = 'kept';
      if (opts.stopEdge) {
        refuseIfControlPlaneRuns(dataDir);
        edge = (await stopEdgeOf(dataDir)) ? 'stopped' : 'not running';
      }
      if (g.json) return printJson({ removed: installed ? [unit] : [], systemd, ran: ran.map((a) => ['systemctl', ...a].join(' ')), edge, kept: [inRoot(root, ENV_FILE), dataDir], notes });
      for (const a of ran) console.log(`ran   systemctl ${a.join(' ')}`);
      for (const n of notes) console.log(`note: ${n}`);
      if (installed) console.log(`removed ${unit}`);
      console.log(edge === 'kept' ? 'the edge keeps serving (stop it with: slipway uninstall --stop-edge)' : `edge: ${edge}`);
      console.log(`kept ${inRoot(root, ENV_FILE)} and the data directory ${dataDir}`);
    });
}

function dataDirOf(g: GlobalOptions): string {
  const dir = g.dataDir ?? process.env.SLIPWAY_DATA_DIR;
  return dir ? path.resolve(dir) : SYSTEM_DATA_DIR;
}

function unitSettings(g: GlobalOptions, user: string): UnitSettings {
  return {
    nodeBin: process.execPath,
    slipwayBin: path.join(REPO, 'bin', 'slipway.mjs'),
    repoDir: REPO,
    dataDir: dataDirOf(g),
    user,
    envFile: ENV_FILE,
  };
}

function inRoot(root: string | null, file: string): string {
  return root ? path.join(root, file) : file;
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new CliError(`error: slipway ${what} changes ${UNIT_DIR}: run it as root (sudo), or with --root DIR${what === 'install' ? ' or --dry-run' : ''}`);
}

/** `--root`: never touch the running system; otherwise whether systemd is PID 1 (what systemd's own sd_booted() checks). */
function systemdState(root: string | null): Systemd {
  if (root) return 'offline';
  return existsSync('/run/systemd/system') ? 'running' : 'absent';
}

async function hasSystemctl(): Promise<boolean> {
  try {
    await run('systemctl', ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function unitActive(): Promise<boolean> {
  try {
    await run('systemctl', ['is-active', '--quiet', UNIT_NAME]);
    return true;
  } catch {
    return false;
  }
}

async function systemctl(ran: string[][], args: string[]): Promise<void> {
  try {
    await run('systemctl', args);
    ran.push(args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CliError(`error: systemctl ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** The pid of a `slipway server` still running on this data directory (server.json outlives it: check the process). */
function foregroundControlPlane(dataDir: string): number | null {
  const pid = readServerInfo(dataDir)?.pid;
  if (!pid || !alive(pid)) return null;
  const argv = cmdline(pid);
  return argv === null || (argv.some((a) => a.endsWith('slipway.mjs') || a.endsWith('main.ts') || a.endsWith('main.mjs')) && argv.includes('server')) ? pid : null;
}

function refuseIfControlPlaneRuns(dataDir: string): void {
  const running = foregroundControlPlane(dataDir);
  if (running) throw new CliError(`error: --stop-edge: a control plane (pid ${running}) still runs on ${dataDir} and would restart the edge; stop it first`);
}

/**
 * Stops the edge of a data directory: SIGTERM to the HAProxy master (its workers follow), SIGKILL
 * after 5 s. The CLI may not import drivers/, so this repeats drivers/haproxy/edge-process.ts's
 * stopEdge checks: the pid file's process must be an HAProxy run on this directory's config.
 */
async function stopEdgeOf(dataDir: string): Promise<boolean> {
  const edgeDir = path.join(dataDir, 'edge');
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(edgeDir, 'haproxy.pid'), 'utf8').trim().split('\n')[0]);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  if (!cmdline(pid)?.includes(path.join(edgeDir, 'haproxy.cfg'))) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  // Workers of a SIGKILLed master may outlive it for a moment: any process still on this config goes too.
  for (const other of procPids()) {
    const argv = cmdline(other);
    if (!argv || !/haproxy$/.test(argv[0] ?? '') || !argv.includes(path.join(edgeDir, 'haproxy.cfg'))) continue;
    try {
      process.kill(other, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return true;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function procPids(): number[] {
  try {
    return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
  } catch {
    return [];
  }
}

function cmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}
