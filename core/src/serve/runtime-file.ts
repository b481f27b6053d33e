/**
 * `<data dir>/runtime/server-<port>.json`: the URL, pid and token of a running server, readable
 * by its owner only (0600 in a 0700 folder), so that CLI commands of the same account find the
 * token without anyone typing it. Written once the server listens, removed when it stops.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive as alive } from '../platform/process-alive.js';

export interface RuntimeInfo {
  url: string;
  pid: number;
  token: string;
  port: number;
}

export function runtimeDir(dataDir: string): string {
  return join(dataDir, 'runtime');
}

export function runtimeFilePath(dataDir: string, port: number): string {
  return join(runtimeDir(dataDir), `server-${port}.json`);
}

/** Writes the file atomically with mode 0600 and returns its path. */
export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): string {
  const dir = runtimeDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = runtimeFilePath(dataDir, info.port);
  const tmp = `${path}.${process.pid}.tmp`;
  // The mode is set at creation, so the token is never readable by others, not even briefly.
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** Removes the file if it is still this process's (a newer server on the same port keeps its own). */
export function removeRuntimeFile(path: string, pid: number = process.pid): void {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<RuntimeInfo>;
    if (info.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

function readInfo(path: string): RuntimeInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<RuntimeInfo>;
    if (typeof v.url !== 'string' || typeof v.token !== 'string' || typeof v.pid !== 'number' || typeof v.port !== 'number') return null;
    return alive(v.pid) ? (v as RuntimeInfo) : null;
  } catch {
    return null;
  }
}

/** Every live server of this account (files of dead processes are ignored). */
export function listRuntimeFiles(dataDir: string): RuntimeInfo[] {
  const dir = runtimeDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^server-\d+\.json$/.test(n))
    .sort()
    .map((n) => readInfo(join(dir, n)))
    .filter((i): i is RuntimeInfo => i !== null);
}

/**
 * The runtime file of the server at `serverUrl`: matched by port, and only for a loopback URL or
 * the exact URL the server wrote (a token is never handed to some other host).
 */
export function findRuntimeInfo(dataDir: string, serverUrl: string): RuntimeInfo | null {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    return null;
  }
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const info = readInfo(runtimeFilePath(dataDir, port));
  if (!info) return null;
  const name = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = name === 'localhost' || name === '::1' || /^127\./.test(name);
  const same = (() => {
    try {
      return new URL(info.url).host === u.host;
    } catch {
      return false;
    }
  })();
  return loopback || same ? info : null;
}
