/**
 * Where Slipway keeps its state and how the CLI finds the server. Shared by the
 * CLI and the composition root so both agree without configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_API_PORT = 7420;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLIPWAY_DATA_DIR) return path.resolve(env.SLIPWAY_DATA_DIR);
  return process.getuid?.() === 0 ? '/var/lib/slipway' : path.join(os.homedir(), '.slipway');
}

export const adminTokenFile = (dataDir: string) => path.join(dataDir, 'admin-token');
export const serverInfoFile = (dataDir: string) => path.join(dataDir, 'server.json');

export interface ServerInfo {
  url: string;
  pid: number;
  httpPort: number;
}

export function readServerInfo(dataDir: string): ServerInfo | null {
  const file = serverInfoFile(dataDir);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return null;
  }
}
