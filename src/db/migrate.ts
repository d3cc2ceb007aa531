import { createHash } from 'node:crypto';
import type { MigrationMeta } from 'drizzle-orm/migrator';
import { readPackageFile } from '../lib/package-files.ts';
import type { Db } from './connection.ts';

const JOURNAL = 'migrations/meta/_journal.json';

interface Journal {
  entries: Array<{ tag: string; when: number; breakpoints: boolean }>;
}

const journal = () => JSON.parse(readPackageFile(JOURNAL).toString('utf8')) as Journal;

/** Every file the migrations are read from, as package paths (the binary embeds exactly these). */
export function migrationFiles(): string[] {
  return [JOURNAL, ...journal().entries.map((entry) => `migrations/${entry.tag}.sql`)];
}

/** What drizzle's readMigrationFiles makes of the migrations folder, made from the package files instead. */
function readMigrations(): MigrationMeta[] {
  return journal().entries.map((entry) => {
    const query = readPackageFile(`migrations/${entry.tag}.sql`).toString('utf8');
    return {
      sql: query.split('--> statement-breakpoint'),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash('sha256').update(query).digest('hex'),
    };
  });
}

// drizzle's migrate() reads a folder on disk, which the binary does not have; it hands what it read to these two.
interface DrizzleMigrator {
  dialect: { migrate(migrations: MigrationMeta[], session: unknown): void };
  session: unknown;
}

/** Applies every migration not applied yet, in order, in one transaction. */
export function applyMigrations(db: Db): void {
  const { dialect, session } = db as unknown as DrizzleMigrator;
  dialect.migrate(readMigrations(), session);
}
