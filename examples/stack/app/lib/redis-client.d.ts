// Types of redis-client.js for the TypeScript tests that import it (the app itself is plain JS).
export type RedisReply = string | number | null | RedisReply[];
export interface RedisTarget {
  host: string;
  port: number;
  user: string | null;
  password: string | null;
  db: number;
}
export class RedisError extends Error {
  code: string;
}
export function parseRedisUrl(url: string): RedisTarget;
export function encode(args: Array<string | number>): Buffer;
export function parseReply(buf: Buffer, start: number): { value: RedisReply | RedisError; end: number } | null;
export class RedisClient {
  constructor(target: string | RedisTarget, opts?: { connectTimeoutMs?: number; commandTimeoutMs?: number });
  command(...args: Array<string | number>): Promise<RedisReply>;
  end(): Promise<void>;
}
