/**
 * One command over an HAProxy CLI socket (the admin stats socket of the current
 * worker, or the master socket): connect, write the command, read the reply until
 * HAProxy closes the connection (non-interactive mode).
 */
import net from 'node:net';
import { SlipwayError } from '../../core/errors';

export function sendCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = net.createConnection(socketPath, () => sock.end(`${command}\n`));
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    sock.on('data', (d: string) => (out += d));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      reject(new SlipwayError('SLW_EDGE', `HAProxy socket ${socketPath} (command "${verb(command)}"): ${err.code ?? err.message}`));
    });
    sock.on('close', (hadError) => {
      if (!hadError) resolve(out);
    });
  });
}

/**
 * Runs a command whose success HAProxy acknowledges with a reply matching `ok`
 * (by default: no reply at all); otherwise throws with HAProxy's own words.
 */
export async function runCommand(socketPath: string, command: string, ok: RegExp = /^$/): Promise<string> {
  const reply = (await sendCommand(socketPath, command)).trim();
  if (ok.test(reply)) return reply;
  throw new SlipwayError('SLW_EDGE', `HAProxy refused "${command}": ${reply.split('\n')[0] || '(no reply)'}`);
}

/** A command for one worker process, sent through the master socket (`@!<pid> <command>`). */
export function sendToWorker(masterSocket: string, pid: number, command: string, timeoutMs = 2000): Promise<string> {
  return sendCommand(masterSocket, `@!${pid} ${command}`, timeoutMs);
}

function verb(command: string): string {
  return command.split(' ').slice(0, 2).join(' ');
}
