import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { loadEmbeddedAddon } from '../lib/package-files.ts';
import * as schema from './schema/index.ts';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** The name of better-sqlite3's compiled addon, which the shipped binary carries (scripts/build-binary.ts). */
export const SQLITE_ADDON = 'better_sqlite3';

/** Opens (or creates) the appliance database: WAL so readers never wait on the writer, foreign keys on. */
export function openDatabase(path: string): Db {
  // The binary's addon is kept beside the database, in the data directory only the appliance's user may enter.
  // better-sqlite3 takes the loaded addon as well as a path; its types know only the path.
  const nativeBinding = loadEmbeddedAddon(SQLITE_ADDON, dirname(path)) as string | undefined;
  const sqlite = new Database(path, { nativeBinding });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return drizzle({ client: sqlite, schema });
}
