import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ToolName = 'temporal' | 'versitygw' | 'temporal-test-server' | 'postgres' | 'initdb';

/** Root of the repository (devstack/ lives directly below it). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const envVarFor: Record<ToolName, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  versitygw: 'VERSITYGW_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
  // PG_BIN_DIR is a directory holding both postgres and initdb.
  postgres: 'PG_BIN_DIR',
  initdb: 'PG_BIN_DIR',
};

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

let goBinDirsCache: string[] | undefined;
function goBinDirs(): string[] {
  if (goBinDirsCache) return goBinDirsCache;
  const dirs: string[] = [];
  if (process.env.GOBIN) dirs.push(process.env.GOBIN);
  let gopath = process.env.GOPATH;
  if (!gopath) {
    try {
      gopath = execFileSync('go', ['env', 'GOPATH'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      }).trim();
    } catch {
      gopath = undefined;
    }
  }
  // GOPATH may be a list; each entry has its own bin/.
  for (const entry of (gopath ?? '').split(path.delimiter)) if (entry) dirs.push(path.join(entry, 'bin'));
  dirs.push(path.join(os.homedir(), 'go', 'bin'));
  goBinDirsCache = [...new Set(dirs)];
  return goBinDirsCache;
}

/** `/usr/lib/postgresql/<highest major>/bin` (Debian layout), if present. */
function debianPostgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(base);
  } catch {
    return undefined;
  }
  const sorted = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && isExecutableFile(path.join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return sorted[0] === undefined ? undefined : path.join(base, sorted[0], 'bin');
}

/**
 * Absolute path of a native tool. Resolution order:
 * env var (TEMPORAL_CLI_PATH, VERSITYGW_PATH, TEMPORAL_TEST_SERVER_PATH, PG_BIN_DIR), PATH, GOPATH/bin,
 * then `/usr/lib/postgresql/<highest>/bin/` for postgres/initdb and
 * `<repo>/.cache/temporal-test-server/temporal-test-server` for the test server.
 */
export function toolPath(name: ToolName): string {
  const envVar = envVarFor[name];
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    const candidate = envVar === 'PG_BIN_DIR' ? path.join(fromEnv, name) : fromEnv;
    if (isExecutableFile(candidate)) return path.resolve(candidate);
    throw new Error(`${name} not found at ${candidate} (from $${envVar}): run bash scripts/provision.sh`);
  }

  const onPath = findOnPath(name);
  if (onPath) return onPath;

  for (const dir of goBinDirs()) {
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }

  if (name === 'postgres' || name === 'initdb') {
    const dir = debianPostgresBinDir();
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }

  if (name === 'temporal-test-server') {
    const candidate = path.join(repoRoot, '.cache', 'temporal-test-server', 'temporal-test-server');
    if (isExecutableFile(candidate)) return candidate;
  }

  throw new Error(`${name} not found: run bash scripts/provision.sh`);
}

/**
 * A PostgreSQL client/server binary (psql, pg_ctl, ...) from the same installation as `postgres`
 * (falls back to PATH, e.g. Debian's /usr/bin/psql wrapper).
 */
export function postgresToolPath(name: string): string {
  const serverDir = path.dirname(fs.realpathSync(toolPath('postgres')));
  const sibling = path.join(serverDir, name);
  if (isExecutableFile(sibling)) return sibling;
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  throw new Error(
    `${name} not found next to ${serverDir}/postgres or on PATH: run bash scripts/provision.sh`,
  );
}
