/** Resolves the server URL and token: flags, then env, then the files `slipway server` wrote. */
import { existsSync, readFileSync } from 'node:fs';
import { SlipwayClient } from '../client/api-client';
import { adminTokenFile, defaultDataDir, DEFAULT_API_PORT, readServerInfo } from './locations';

export interface GlobalOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

export function connect(opts: GlobalOptions): SlipwayClient {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const url = opts.url ?? process.env.SLIPWAY_URL ?? readServerInfo(dataDir)?.url ?? `http://127.0.0.1:${DEFAULT_API_PORT}`;
  let token = opts.token ?? process.env.SLIPWAY_TOKEN;
  if (!token && existsSync(adminTokenFile(dataDir))) token = readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  return new SlipwayClient({ url, token });
}
