/**
 * Resolves the server URL and token, first match wins: --url/--token, --context,
 * SLIPWAY_URL/SLIPWAY_TOKEN, the current context (SLIPWAY_CONTEXT or `context use`), then
 * the files a local `slipway server` wrote (server.json, admin-token).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SlipwayClient } from '../client/api-client';
import { selectedContext } from './contexts';
import { adminTokenFile, defaultDataDir, DEFAULT_API_PORT, readServerInfo } from './locations';

export interface GlobalOptions {
  url?: string;
  token?: string;
  context?: string;
  dataDir?: string;
  json?: boolean;
}

export function connect(opts: GlobalOptions): SlipwayClient {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const context = opts.url || (!opts.context && process.env.SLIPWAY_URL) ? null : selectedContext(opts.context);
  const url = opts.url ?? context?.url ?? process.env.SLIPWAY_URL ?? readServerInfo(dataDir)?.url ?? `http://127.0.0.1:${DEFAULT_API_PORT}`;
  let token = opts.token ?? context?.token ?? process.env.SLIPWAY_TOKEN;
  if (!token && !context && existsSync(adminTokenFile(dataDir))) token = readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  return new SlipwayClient({ url, token });
}
