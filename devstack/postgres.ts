import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './ports';
import { chownRecursive, ensureTraversable, isRoot, lookupOsUser, type OsUser } from './os-user';
import { runChecked, runCommand, spawnService, waitUntilReady } from './process';
import { postgresToolPath, toolPath } from './tools';

export interface StartPostgresOptions {
  /** PGDATA. Initialised with initdb on first use (when it has no PG_VERSION). */
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  /** Keep fsync & co. on. Default false: dev/test data, crash safety not needed. */
  durable?: boolean;
  /** Extra server settings, passed as `-c key=value`. */
  settings?: Record<string, string | number | boolean>;
  /** Database created (if missing) and used in `url`. Default `assetline`. */
  database?: string;
  /** Default 60 s. */
  startTimeoutMs?: number;
}

export interface PostgresHandle {
  /** `postgres://assetline@127.0.0.1:PORT/assetline` */
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Superuser created by initdb; auth is `trust` (only reachable on 127.0.0.1). */
const PG_USER = 'assetline';
const PG_VERSION_FILE = 'PG_VERSION';
// sockaddr_un.sun_path is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH = 107;

function lookupPostgresUser(): OsUser {
  const user = lookupOsUser('postgres');
  if (user) return user;
  throw new Error(
    'Running as root, but there is no `postgres` OS user to run PostgreSQL as (postgres refuses to run as root): ' +
      'run bash scripts/provision.sh',
  );
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function psqlEnv(): NodeJS.ProcessEnv {
  // Make sure the user's PG* variables and ~/.pgpass do not redirect our connections.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  env.PGCONNECT_TIMEOUT = '5';
  return env;
}

async function psql(url: string, sql: string): Promise<string> {
  const result = await runChecked(
    postgresToolPath('psql'),
    ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { env: psqlEnv(), timeoutMs: 60_000 },
  );
  return result.stdout.trim();
}

/**
 * Runs `CREATE DATABASE name` through psql on the server of `adminUrl` (a URL of a superuser or a role
 * with CREATEDB). Returns the URL of the new database. With `ifNotExists`, an existing database is fine.
 */
export async function createDatabase(
  adminUrl: string,
  name: string,
  opts: { ifNotExists?: boolean } = {},
): Promise<string> {
  if (name === '') throw new Error('createDatabase: empty database name');
  try {
    await psql(adminUrl, `CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    if (!(opts.ifNotExists && /already exists/.test((err as Error).message))) throw err;
  }
  return withDatabase(adminUrl, name);
}

/**
 * Starts a throwaway PostgreSQL server on 127.0.0.1 (initialising `dataDir` on first use) and waits until it
 * accepts SQL. When running as root, the server runs as the `postgres` OS user.
 */
export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? 'assetline';
  const durable = opts.durable ?? false;
  const logFile = path.join(dataDir, 'postgres.log');
  const runAs = isRoot() ? lookupPostgresUser() : undefined;
  const postgresBin = toolPath('postgres');
  const binDir = path.dirname(fs.realpathSync(postgresBin));
  const initdbBin = fs.existsSync(path.join(binDir, 'initdb'))
    ? path.join(binDir, 'initdb')
    : toolPath('initdb');

  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    ensureTraversable(dataDir, runAs);
    chownRecursive(dataDir, runAs);
  }

  if (!fs.existsSync(path.join(dataDir, PG_VERSION_FILE))) {
    const leftovers = fs.readdirSync(dataDir);
    if (leftovers.length > 0) {
      throw new Error(
        `${dataDir} has no ${PG_VERSION_FILE} but is not empty (${leftovers.slice(0, 5).join(', ')}); ` +
          'refusing to initdb into it: delete it or pick another dataDir',
      );
    }
    const args = ['-D', dataDir, '-A', 'trust', '-U', PG_USER, '--encoding', 'UTF8', '--locale', 'C'];
    if (!durable) args.push('--no-sync');
    const result = await runCommand(initdbBin, args, {
      uid: runAs?.uid,
      gid: runAs?.gid,
      timeoutMs: 120_000,
    });
    if (result.code !== 0) {
      throw new Error(
        `initdb for ${dataDir} failed (code ${result.code}):\n${(result.stdout + result.stderr).trimEnd()}`,
      );
    }
    fs.appendFileSync(logFile, `=== ${new Date().toISOString()} initdb\n${result.stdout}${result.stderr}`);
  }

  const port = opts.port ?? (await freePort());
  // Unix socket in the data dir if the path fits (handy for `psql -h <dataDir>`), otherwise TCP only.
  const socketDir = path.join(dataDir, `.s.PGSQL.${port}`).length <= MAX_SOCKET_PATH ? dataDir : '';
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...opts.settings,
  };
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${String(value)}`);

  const service = await spawnService({
    name: 'postgres',
    command: postgresBin,
    args,
    logFile,
    env: psqlEnv(),
    uid: runAs?.uid,
    gid: runAs?.gid,
    stopSignal: 'SIGINT', // "fast" shutdown: SIGTERM would wait for clients to disconnect
    stopTimeoutMs: 20_000,
  });

  const adminUrl = `postgres://${PG_USER}@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(
      service,
      `accepting SQL on 127.0.0.1:${port}`,
      opts.startTimeoutMs ?? 60_000,
      async () => {
        const r = await runCommand(
          postgresToolPath('psql'),
          ['-X', '-q', '-A', '-t', '-d', adminUrl, '-c', 'SELECT 1'],
          {
            env: psqlEnv(),
            timeoutMs: 10_000,
          },
        );
        if (r.code !== 0) throw new Error(r.stderr.trim());
        return true;
      },
    );
    const url = await createDatabase(adminUrl, database, { ifNotExists: true });
    return { url, port, dataDir, logFile, stop: () => service.stop() };
  } catch (err) {
    await service.stop();
    throw err;
  }
}
