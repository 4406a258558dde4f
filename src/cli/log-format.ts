/**
 * How `slipway logs` prints an entry for people: `v3 a1b2c3 | <line>`, the release and
 * the replica's short id first, so lines of several replicas and releases can be told
 * apart in one stream. An app's JSON log line (an object with `msg` or `message` and a
 * `level`, as pino, bunyan, winston or zap write them) becomes
 * `12:00:01.123 INFO  GET / requestId=… status=200`: time, level, message, then the
 * other fields as key=value. `--json` prints entries untouched instead.
 */
import type { LogEntryView } from '../client/api-client';

/** pino/bunyan numeric levels. */
const NUMERIC_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const TIME_FIELDS = ['time', 'timestamp', 'ts', '@timestamp'];
const MESSAGE_FIELDS = ['msg', 'message'];

export interface AppLogLine {
  time: string | null;
  level: string;
  message: string;
  fields: Array<[string, unknown]>;
}

/** The structured form of a JSON app log line, or null for anything else. */
export function parseAppLogLine(line: string): AppLogLine | null {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  const messageKey = MESSAGE_FIELDS.find((k) => typeof obj[k] === 'string');
  const level = typeof obj.level === 'string' ? obj.level : typeof obj.level === 'number' ? (NUMERIC_LEVELS[obj.level] ?? String(obj.level)) : null;
  if (!messageKey || level === null) return null;
  const timeKey = TIME_FIELDS.find((k) => typeof obj[k] === 'string' || typeof obj[k] === 'number');
  const skip = new Set([messageKey, 'level', ...(timeKey ? [timeKey] : [])]);
  return {
    time: timeKey ? toIso(obj[timeKey] as string | number) : null,
    level,
    message: obj[messageKey] as string,
    fields: Object.entries(obj).filter(([k]) => !skip.has(k)),
  };
}

/** `<release> <replica id> | <line>`, the line pretty-printed when it is a JSON app log line. */
export function formatLogEntry(e: LogEntryView): string {
  const prefix = `v${e.release} ${shortReplica(e.replica)} |`;
  const app = parseAppLogLine(e.line);
  if (!app) return `${prefix} ${e.line}`;
  const fields = app.fields.map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
  return `${prefix} ${clock(app.time ?? e.at)} ${app.level.toUpperCase().padEnd(5)} ${app.message}${fields ? ` ${fields}` : ''}`;
}

/** The random suffix of `<project>-<service>-<env>-v<release>-<6 hex>`, which tells replicas apart. */
export function shortReplica(name: string): string {
  const m = /-v\d+-([0-9a-f]{6})$/.exec(name);
  return m ? m[1]! : name;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** Local wall-clock time with milliseconds. */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function toIso(v: string | number): string | null {
  // Numbers: epoch milliseconds (pino, Date.now()) or seconds (zap, Python's time.time()).
  const d = typeof v === 'number' ? new Date(v < 1e11 ? v * 1000 : v) : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
