/**
 * NDJSON answers of long operations (backups, verification, restore): one JSON object per
 * line. The handler validates its input first, so a bad request is still a normal JSON error;
 * from `openNdjson` on the status is 200 and failures travel as `{type:'error',…}` lines.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isSlipwayError } from '../core/errors';

export interface NdjsonStream {
  /** Writes one line; a client that went away is ignored (the operation runs to its end anyway). */
  send(item: unknown): void;
  end(): void;
}

export function openNdjson(reply: FastifyReply): NdjsonStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  const open = () => !res.destroyed && !res.writableEnded;
  return {
    send: (item) => {
      if (open()) res.write(`${JSON.stringify(item)}\n`);
    },
    end: () => {
      if (open()) res.end();
    },
  };
}

/**
 * What an error line says: a coded error's code and message; anything else is logged and
 * reported as the API's errorHandler does, so no internal message or stack reaches the client.
 */
export function streamError(req: FastifyRequest, err: unknown): { code: string; message: string } {
  if (isSlipwayError(err)) return { code: err.code, message: err.message };
  req.log.error({ err }, 'unhandled error in a streamed answer');
  return { code: 'SLW_INTERNAL', message: 'internal error; see the server log' };
}
