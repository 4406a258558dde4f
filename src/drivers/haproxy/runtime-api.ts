/** One command over an HAProxy CLI socket (admin stats socket or master socket); returns the reply text. */
import net from 'node:net';
import { SlipwayError } from '../../core/errors';

export function sendCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = net.createConnection(socketPath, () => sock.end(`${command}\n`));
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    sock.on('data', (d) => (out += d.toString('utf8')));
    sock.on('error', (err) => reject(new SlipwayError('SLW_EDGE', `HAProxy socket ${socketPath}: ${(err as NodeJS.ErrnoException).code ?? err.message} (command "${command.split(' ')[0]}")`)));
    sock.on('close', (hadError) => {
      if (!hadError) resolve(out);
    });
  });
}

/** Runs a command whose success HAProxy acknowledges with one of `ok` texts (or nothing); throws with HAProxy's own words otherwise. */
export async function runCommand(socketPath: string, command: string, ok: RegExp = /^$/): Promise<string> {
  const reply = (await sendCommand(socketPath, command)).trim();
  if (ok.test(reply)) return reply;
  throw new SlipwayError('SLW_EDGE', `HAProxy refused "${command}": ${reply.split('\n')[0]}`);
}

/** Parses `show stat` CSV (header line starts with "# ") into records keyed by column name. */
export function parseStatCsv(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).split(',');
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const cells = l.split(',');
      return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
    });
}
