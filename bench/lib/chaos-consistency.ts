/**
 * The chaos bench's consistency check of one service, from what can be seen from outside:
 * the API's status and deployments, Docker's containers and the edge's `show servers state`.
 * Pure: gathering the facts is the bench's job; this says what is wrong with them.
 */

export interface EdgeServerState {
  name: string;
  /** srv_op_state 2: running (the server is up). */
  up: boolean;
  /** srv_admin_state 0: neither in maintenance nor draining. */
  ready: boolean;
  weight: number;
}

export interface ConsistencyFacts {
  /** The live release (null: none). */
  live: { number: number; replicas: number } | null;
  /** Every container of the service, whatever its state. */
  containers: Array<{ name: string; running: boolean; release: number }>;
  /** The servers of the service's backend; null when the edge did not answer. */
  edge: EdgeServerState[] | null;
  /** Ids of the service's deployments in an active state. */
  activeDeployments: string[];
}

/** What is inconsistent, one line each; empty when the service is as it should be. */
export function inconsistencies(f: ConsistencyFacts): string[] {
  const problems: string[] = [];
  if (f.activeDeployments.length > 0) problems.push(`deployment(s) still running: ${f.activeDeployments.join(', ')}`);
  if (!f.live) return [...problems, 'no live release'];
  const live = f.containers.filter((c) => c.running && c.release === f.live!.number);
  const orphans = f.containers.filter((c) => !(c.running && c.release === f.live!.number));
  if (orphans.length > 0) problems.push(`orphan containers: ${orphans.map((c) => `${c.name} (v${c.release}, ${c.running ? 'running' : 'not running'})`).join(', ')}`);
  if (live.length !== f.live.replicas) problems.push(`${live.length} running replica(s) of v${f.live.number}, its release asks for ${f.live.replicas}`);
  if (f.edge === null) return [...problems, 'the edge does not answer'];
  const wanted = new Set(live.map((c) => c.name));
  const servers = new Map(f.edge.map((s) => [s.name, s]));
  const missing = [...wanted].filter((n) => !servers.has(n));
  const extra = [...servers.keys()].filter((n) => !wanted.has(n));
  const notServing = f.edge.filter((s) => wanted.has(s.name) && !(s.up && s.ready && s.weight > 0));
  if (missing.length > 0) problems.push(`replica(s) absent from the edge: ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`edge server(s) without a live replica: ${extra.join(', ')}`);
  if (notServing.length > 0) problems.push(`edge server(s) not serving: ${notServing.map((s) => `${s.name} (${s.up ? 'up' : 'down'}, ${s.ready ? 'ready' : 'drain/maint'}, weight ${s.weight})`).join(', ')}`);
  return problems;
}

/**
 * HAProxy's `show servers state <backend>` reply: a version line, a `# be_id be_name srv_id
 * srv_name …` header, one line per server. Columns are found by the header's names.
 */
export function parseServersState(reply: string): EdgeServerState[] {
  const lines = reply.split('\n').map((l) => l.trim());
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) throw new Error(`unexpected "show servers state" reply: ${reply.slice(0, 200)}`);
  const cols = header.slice(1).trim().split(/\s+/);
  const col = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`"show servers state" has no ${name} column`);
    return i;
  };
  const [name, op, admin, weight] = [col('srv_name'), col('srv_op_state'), col('srv_admin_state'), col('srv_uweight')];
  return lines
    .filter((l) => l !== '' && !l.startsWith('#') && /\s/.test(l))
    .map((l) => l.split(/\s+/))
    .map((f) => ({ name: f[name]!, up: f[op] === '2', ready: f[admin] === '0', weight: Number(f[weight]) }));
}
