// A minimal PostgreSQL client (wire protocol v3) with no dependencies, for the stack example:
// startup, authentication (SCRAM-SHA-256 over SASL; md5 and cleartext too), the simple query
// protocol, and a lazy reconnect: a query on a lost connection opens a new one, so the app
// survives a database restart without restarting itself.
//
// The simple protocol has no parameters: callers put only integers (checked) and values the
// server generated into SQL text, or quote text with `literal()`.
//
//   const db = new PgClient(process.env.DATABASE_URL);
//   const { rows } = await db.query('select count(*)::int as n from visits');
//
// Errors: a server error rejects with a PgError (`code` = SQLSTATE, e.g. 42501 for
// insufficient_privilege) and keeps the connection; a network failure or timeout rejects with
// the socket's error (code ECONNREFUSED, ETIMEDOUT…) and drops the connection. No message
// ever contains the password.
import crypto from 'node:crypto';
import net from 'node:net';

export class PgError extends Error {
  constructor(fields) {
    super(fields.M ?? 'postgres error');
    this.name = 'PgError';
    /** SQLSTATE, e.g. 42501 (insufficient privilege), 42P01 (undefined table). */
    this.code = fields.C ?? null;
    this.severity = fields.S ?? null;
    this.detail = fields.D ?? null;
  }
}

/** A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1). */
export function literal(value) {
  const s = String(value);
  if (s.includes('\0')) throw new Error('literal: NUL byte');
  return `'${s.replaceAll("'", "''")}'`;
}

/** `postgres://user:password@host:port/database` → connection settings. */
export function parsePgUrl(url) {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`not a postgres:// URL (${u.protocol})`);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username),
  };
}

export class PgClient {
  /**
   * @param {string | {host: string, port: number, user: string, password: string, database: string}} target
   * @param {{connectTimeoutMs?: number, queryTimeoutMs?: number, applicationName?: string}} [opts]
   */
  constructor(target, opts = {}) {
    this.cfg = typeof target === 'string' ? parsePgUrl(target) : target;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 10_000;
    this.applicationName = opts.applicationName ?? 'slipway-stack';
    /** @type {Connection | null} */
    this.conn = null;
    /** The connection being opened: concurrent queries wait for the same one. */
    this.connecting = null;
  }

  /** Runs one SQL text (several statements allowed); resolves with the last result's rows. */
  async query(sql) {
    const conn = await this.connection();
    const results = await conn.query(sql, this.queryTimeoutMs);
    const last = results[results.length - 1] ?? { rows: [], fields: [], command: '' };
    return { ...last, results };
  }

  async connection() {
    if (this.conn && !this.conn.closed) return this.conn;
    if (!this.connecting) {
      this.connecting = Connection.open(this.cfg, this.connectTimeoutMs, this.applicationName).then(
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
    if (c) await c.end();
  }
}

/** One authenticated connection; queries run one after the other (the protocol is sequential). */
class Connection {
  constructor(socket) {
    this.socket = socket;
    this.closed = false;
    this.buf = Buffer.alloc(0);
    /** Message handler of the current phase (startup, then the query in flight). */
    this.onMessage = null;
    this.onClose = null;
    /** Queries run in order: each waits for the previous one's ReadyForQuery. */
    this.tail = Promise.resolve();
    socket.on('data', (chunk) => this.receive(chunk));
    const closed = (err) => {
      if (this.closed) return;
      this.closed = true;
      const handler = this.onClose;
      this.onClose = null;
      handler?.(err ?? Object.assign(new Error('connection to postgres closed'), { code: 'ECONNRESET' }));
    };
    socket.on('error', closed);
    socket.on('close', () => closed());
  }

  static open(cfg, timeoutMs, applicationName) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: cfg.host, port: cfg.port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const conn = new Connection(socket);
      const timer = setTimeout(() => {
        fail(Object.assign(new Error(`postgres at ${cfg.host}:${cfg.port}: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      conn.onClose = fail;
      socket.once('connect', () => {
        conn.startup(cfg, applicationName).then(
          () => {
            clearTimeout(timer);
            resolve(conn);
          },
          fail,
        );
      });
    });
  }

  receive(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 5) {
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < 1 + len) break;
      const type = String.fromCharCode(this.buf[0]);
      const body = this.buf.subarray(5, 1 + len);
      this.buf = this.buf.subarray(1 + len);
      // ParameterStatus, BackendKeyData and notices may come at any time: nothing to do with them here.
      if (type === 'S' || type === 'K' || type === 'N' || type === 'A') continue;
      this.onMessage?.(type, body);
    }
  }

  send(type, body) {
    const head = Buffer.alloc(type ? 5 : 4);
    if (type) {
      head.write(type, 0, 'latin1');
      head.writeInt32BE(body.length + 4, 1);
    } else {
      head.writeInt32BE(body.length + 4, 0);
    }
    this.socket.write(Buffer.concat([head, body]));
  }

  /** StartupMessage, then authentication until ReadyForQuery. */
  startup(cfg, applicationName) {
    return new Promise((resolve, reject) => {
      const params = ['user', cfg.user, 'database', cfg.database, 'application_name', applicationName, 'client_encoding', 'UTF8'];
      const version = Buffer.alloc(4);
      version.writeInt32BE(196608, 0); // protocol 3.0
      this.send(null, Buffer.concat([version, Buffer.from(`${params.join('\0')}\0\0`, 'utf8')]));
      let scram = null;
      this.onMessage = (type, body) => {
        try {
          if (type === 'E') return reject(new PgError(errorFields(body)));
          if (type === 'Z') {
            this.onMessage = null;
            return resolve();
          }
          if (type !== 'R') return;
          const kind = body.readInt32BE(0);
          switch (kind) {
            case 0: // AuthenticationOk
              return;
            case 3: // cleartext
              return this.send('p', cstring(cfg.password));
            case 5: {
              // md5(md5(password + user) + salt)
              const inner = md5hex(cfg.password + cfg.user);
              return this.send('p', cstring(`md5${md5hex(Buffer.concat([Buffer.from(inner), body.subarray(4, 8)]))}`));
            }
            case 10: {
              const mechanisms = body.subarray(4).toString('utf8').split('\0').filter(Boolean);
              if (!mechanisms.includes('SCRAM-SHA-256')) throw new Error(`postgres offers no supported SASL mechanism (${mechanisms.join(', ')})`);
              scram = new Scram(cfg.password);
              const first = Buffer.from(scram.clientFirst(), 'utf8');
              const len = Buffer.alloc(4);
              len.writeInt32BE(first.length, 0);
              return this.send('p', Buffer.concat([cstring('SCRAM-SHA-256'), len, first]));
            }
            case 11: // SASLContinue
              return this.send('p', Buffer.from(scram.clientFinal(body.subarray(4).toString('utf8')), 'utf8'));
            case 12: // SASLFinal
              return scram.verifyServer(body.subarray(4).toString('utf8'));
            default:
              throw new Error(`unsupported postgres authentication method ${kind}`);
          }
        } catch (err) {
          reject(err);
        }
      };
    });
  }

  /** Simple query: resolves with one {command, fields, rows} per statement. */
  query(sql, timeoutMs) {
    const run = this.tail.then(() => this.runQuery(sql, timeoutMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  runQuery(sql, timeoutMs) {
    if (this.closed) return Promise.reject(Object.assign(new Error('connection to postgres closed'), { code: 'ECONNRESET' }));
    return new Promise((resolve, reject) => {
      const results = [];
      let current = { command: '', fields: [], rows: [] };
      let error = null;
      const timer = setTimeout(() => {
        // The server may still be working: this connection is out of step, drop it.
        this.socket.destroy();
        finish(Object.assign(new Error(`postgres query: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      const finish = (err) => {
        clearTimeout(timer);
        this.onMessage = null;
        this.onClose = null;
        if (err) reject(err);
        else resolve(results);
      };
      this.onClose = finish;
      this.onMessage = (type, body) => {
        switch (type) {
          case 'T':
            current.fields = rowDescription(body);
            break;
          case 'D':
            current.rows.push(dataRow(body, current.fields));
            break;
          case 'C':
            current.command = body.subarray(0, body.length - 1).toString('utf8');
            results.push(current);
            current = { command: '', fields: [], rows: [] };
            break;
          case 'I': // empty query
            break;
          case 'E':
            error = new PgError(errorFields(body));
            break;
          case 'Z':
            finish(error);
            break;
        }
      };
      this.send('Q', cstring(sql));
    });
  }

  end() {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.socket.once('close', resolve);
      this.send('X', Buffer.alloc(0));
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}

/** SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it: no channel binding, the user comes from the startup message. */
class Scram {
  constructor(password) {
    this.password = password;
    this.nonce = crypto.randomBytes(18).toString('base64');
    this.firstBare = `n=*,r=${this.nonce}`;
  }

  clientFirst() {
    return `n,,${this.firstBare}`;
  }

  clientFinal(serverFirst) {
    const attrs = scramAttributes(serverFirst);
    if (!attrs.r?.startsWith(this.nonce)) throw new Error('SCRAM: the server nonce does not extend ours');
    const salt = Buffer.from(attrs.s ?? '', 'base64');
    const iterations = Number(attrs.i);
    if (!salt.length || !Number.isInteger(iterations) || iterations < 1) throw new Error('SCRAM: bad server-first-message');
    const salted = crypto.pbkdf2Sync(this.password, salt, iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = crypto.createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    this.authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, this.authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    this.serverKey = hmac(salted, 'Server Key');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** The server proves it knows the password too (else a man in the middle could have answered). */
  verifyServer(serverFinal) {
    const attrs = scramAttributes(serverFinal);
    if (attrs.e) throw new Error(`SCRAM: server error ${attrs.e}`);
    const expected = hmac(this.serverKey, this.authMessage).toString('base64');
    if (attrs.v !== expected) throw new Error('SCRAM: the server signature does not match');
  }
}

function scramAttributes(text) {
  const out = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
const md5hex = (data) => crypto.createHash('md5').update(data).digest('hex');
const cstring = (s) => Buffer.from(`${s}\0`, 'utf8');

function errorFields(body) {
  const fields = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    fields[code] = body.subarray(i + 1, end).toString('utf8');
    i = end + 1;
  }
  return fields;
}

function rowDescription(body) {
  const n = body.readInt16BE(0);
  const fields = [];
  let i = 2;
  for (let k = 0; k < n; k++) {
    const end = body.indexOf(0, i);
    const name = body.subarray(i, end).toString('utf8');
    i = end + 1;
    const typeOid = body.readInt32BE(i + 6);
    fields.push({ name, typeOid });
    i += 18;
  }
  return fields;
}

/** Text-format values; int2/int4/int8 (up to 2^53)/bool/float become JS values, the rest stays text. */
function dataRow(body, fields) {
  const n = body.readInt16BE(0);
  const row = {};
  let i = 2;
  for (let k = 0; k < n; k++) {
    const len = body.readInt32BE(i);
    i += 4;
    const field = fields[k] ?? { name: `column${k}`, typeOid: 25 };
    if (len === -1) {
      row[field.name] = null;
      continue;
    }
    const text = body.subarray(i, i + len).toString('utf8');
    i += len;
    row[field.name] = convert(text, field.typeOid);
  }
  return row;
}

function convert(text, oid) {
  switch (oid) {
    case 16: // bool
      return text === 't';
    case 20: // int8
    case 21: // int2
    case 23: // int4
    case 26: // oid
      return Number(text);
    case 700: // float4
    case 701: // float8
      return Number(text);
    default:
      return text;
  }
}
