/** A password for login/users: SLIPWAY_PASSWORD, else stdin when piped, else a prompt that does not echo. */
import { CliError } from './cli-error';

export async function readPassword(prompt: string, opts: { stdin?: boolean } = {}): Promise<string> {
  if (process.env.SLIPWAY_PASSWORD) return process.env.SLIPWAY_PASSWORD;
  if (opts.stdin || !process.stdin.isTTY) {
    if (process.stdin.isTTY) throw new CliError('--password-stdin: pipe the password in, e.g. `printf %s "$PW" | slipway login --password-stdin`');
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const password = text.replace(/\r?\n$/, '');
    if (!password) throw new CliError('no password on stdin (or set SLIPWAY_PASSWORD)');
    return password;
  }
  return promptHidden(prompt);
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
