import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The user's data folder: $SWITCHYARD_HOME, else $XDG_DATA_HOME/switchyard, else ~/.local/share/switchyard. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWITCHYARD_HOME) return env.SWITCHYARD_HOME;
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'switchyard');
}

export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHYARD_STORE || join(defaultDataDir(env), 'store.db');
}

/** The package root, found by walking up from this file (works from src and from dist). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'switchyard') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('Cannot find the switchyard package root');
    dir = up;
  }
}

export function workbenchDir(): string | undefined {
  const dir = join(packageRoot(), 'dist', 'renderer');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}
