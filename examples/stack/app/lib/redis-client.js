// A minimal Redis client (RESP2) with no dependencies, for the stack example: any command as
// an argv array, replies matched in order, AUTH on connect, and a lazy reconnect: a command on
// a lost connection opens a new one (the host name is resolved again, so a recreated
// accessory with a new address is found by its name).
//
//   const redis = new RedisClient(process.env.REDIS_URL);
//   await redis.command('INCR', 'visits');              // → 1
//   await redis.command('BRPOP', 'jobs', '1');           // → ['jobs', '42'] or null
//
// Errors: an error reply rejects with a RedisError (`code` = its first word, e.g. NOAUTH,
// WRONGPASS) and keeps the connection; a network failure or timeout rejects with the socket's
// error and drops the connection. No message ever contains the password.
import net from 'node:net';

export class RedisError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RedisError';
    this.code = message.split(' ')[0] ?? 'ERR';
  }
}

/** `redis://[user]:password@host:port[/db]` → connection settings. */
export function parseRedisUrl(url) {
  const u = new URL(url);
  if (u.protocol !== 'redis:') throw new Error(`not a redis:// URL (${u.protocol})`);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    user: decodeURIComponent(u.username) || null,
    password: decodeURIComponent(u.password) || null,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
  };
}

/** Commands that block on the server: their timeout counts from the server's own timeout (last argument, seconds). */
const BLOCKING = new Set(['BRPOP', 'BLPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX']);

export class RedisClient {
  /**
   * @param {string | {host: string, port: number, user: string | null, password: string | null, db: number}} target
   * @param {{connectTimeoutMs?: number, commandTimeoutMs?: number}} [opts]
   */
  constructor(target, opts = {}) {
    this.cfg = typeof target === 'string' ? parseRedisUrl(target) : target;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 5000;
    this.conn = null;
    this.connecting = null;
  }

  /** Sends one command; resolves with its reply (string, number, null or array). */
  async command(...args) {
    const conn = await this.connection();
    const name = String(args[0]).toUpperCase();
    const extra = BLOCKING.has(name) ? Number(args[args.length - 1]) * 1000 : 0;
    return conn.command(args, this.commandTimeoutMs + extra);
  }

  async connection() {
    if (this.conn && !this.conn.closed) return this.conn;
    if (!this.connecting) {
      this.connecting = RedisConnection.open(this.cfg, this.connectTimeoutMs, this.commandTimeoutMs).then(
        (c) => {
          this.conn = c;
          this.connecting = null;
          return c;
        },
        (err) => {
          this.connecting = null;
          throw err;
        },
      );
    }
    return this.connecting;
  }

  async end() {
    const c = this.conn;
    this.conn = null;
    c?.close();
  }
}

class RedisConnection {
  constructor(socket) {
    this.socket = socket;
    this.closed = false;
    this.buf = Buffer.alloc(0);
    /** Replies are in command order: one waiter per command sent. */
    this.waiters = [];
    socket.on('data', (chunk) => this.receive(chunk));
    const closed = (err) => {
      if (this.closed) return;
      this.closed = true;
      const e = err ?? Object.assign(new Error('connection to redis closed'), { code: 'ECONNRESET' });
      for (const w of this.waiters.splice(0)) w.reject(e);
      this.onClose?.(e);
    };
    socket.on('error', closed);
    socket.on('close', () => closed());
  }

  static open(cfg, connectTimeoutMs, commandTimeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: cfg.host, port: cfg.port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const conn = new RedisConnection(socket);
      const timer = setTimeout(() => fail(Object.assign(new Error(`redis at ${cfg.host}:${cfg.port}: no answer within ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), connectTimeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      conn.onClose = fail;
      socket.once('connect', async () => {
        try {
          if (cfg.password) await conn.command(cfg.user ? ['AUTH', cfg.user, cfg.password] : ['AUTH', cfg.password], commandTimeoutMs);
          if (cfg.db) await conn.command(['SELECT', String(cfg.db)], commandTimeoutMs);
          clearTimeout(timer);
          conn.onClose = null;
          resolve(conn);
        } catch (err) {
          fail(err);
        }
      });
    });
  }

  command(args, timeoutMs) {
    if (this.closed) return Promise.reject(Object.assign(new Error('connection to redis closed'), { code: 'ECONNRESET' }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A reply may still come: this connection is out of step, drop it.
        this.socket.destroy(Object.assign(new Error(`redis ${String(args[0]).toUpperCase()}: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      this.waiters.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(encode(args));
    });
  }

  receive(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      let parsed;
      try {
        parsed = parseReply(this.buf, 0);
      } catch (err) {
        this.socket.destroy(err); // not RESP: nothing after this can be trusted
        return;
      }
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      const waiter = this.waiters.shift();
      if (!waiter) continue; // a push we did not ask for (never in RESP2 without SUBSCRIBE)
      if (parsed.value instanceof RedisError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
  }

  close() {
    if (this.closed) return;
    this.socket.end(encode(['QUIT']));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

/** A command as a RESP array of bulk strings. */
export function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = Buffer.from(String(a), 'utf8');
    parts.push(`$${s.length}\r\n`, s, '\r\n');
  }
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/**
 * Parses one reply at `start`; null when the buffer does not hold a whole one yet.
 * Error replies become RedisError values (an error inside an array stays in the array).
 */
export function parseReply(buf, start) {
  if (start >= buf.length) return null;
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buf[start]);
  const line = buf.subarray(start + 1, lineEnd).toString('utf8');
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len === -1) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.subarray(next, next + len).toString('utf8'), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n === -1) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, at);
        if (!item) return null;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}
