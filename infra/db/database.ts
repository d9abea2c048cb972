import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';
import * as m001 from './migrations/001-initial';
import * as m002 from './migrations/002-blobs-and-stages';
import * as m003 from './migrations/003-access-delivery';
import * as m004 from './migrations/004-multipart';
import * as m005 from './migrations/005-retention';
import * as m006 from './migrations/006-doc-version';
import * as m007 from './migrations/007-integrity';
import * as m009 from './migrations/009-tiering';
import * as m010 from './migrations/010-owner-usage';
import * as m011 from './migrations/011-workflow-starts';
import * as m012 from './migrations/012-blob-deleting';
import * as m013 from './migrations/013-quota-admission';
import * as m014 from './migrations/014-dead-letters';
import * as m015 from './migrations/015-visibility';
import * as m016 from './migrations/016-upload-sessions';
import * as m017 from './migrations/017-owner-checksum';
import * as m018 from './migrations/018-deferred-starts';
import * as m004search from './migrations/004-search';

// Migrations are imported, not read from a folder, so they ship inside whatever bundle runs the process.
const migrations: Record<string, Migration> = {
  '001-initial': m001,
  '002-blobs-and-stages': m002,
  '003-access-delivery': m003,
  '004-multipart': m004,
  '004-search': m004search,
  '005-retention': m005,
  '006-doc-version': m006,
  '007-integrity': m007,
  '009-tiering': m009,
  '010-owner-usage': m010,
  '011-workflow-starts': m011,
  '012-blob-deleting': m012,
  '013-quota-admission': m013,
  '014-dead-letters': m014,
  '015-visibility': m015,
  '016-upload-sessions': m016,
  '017-owner-checksum': m017,
  '018-deferred-starts': m018,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export type Db = Kysely<Database>;

export function createDb(databaseUrl: string, poolSize = 10): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // Our queries are short lookups, where starting parallel workers costs more than it saves: with 1M assets a
    // tag filter's page, its matches underestimated twentyfold, got a parallel plan of 5-9 ms instead of 0.2 ms.
    options: '-c max_parallel_workers_per_gather=0',
  });
  // An idle client losing its connection (Postgres restarted) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor one that is checked out: the pool listens only to idle clients, so a connection that dies between a
  // failed query and the client's release (Postgres shutting down) emitted an 'error' nobody heard, and the
  // process died. The query has already failed with the cause; a dead client is dropped when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Applies pending migrations; safe when API and workers start together (Kysely takes a lock). */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

/** Applies migrations up to and including `name` (or down to it): for tests of a migration's data changes. */
export async function migrateTo(db: Db, name: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error } = await migrator.migrateTo(name);
  if (error) throw new Error(`database migration to ${name} failed: ${String(error)}`);
}
