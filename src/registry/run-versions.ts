import { searchModelVersions } from './model-version-queries.ts';
import type { Caller, RegistryAccess, RegistryDeps } from './registry-access.ts';
import { describeVersions, type ModelVersion } from './registry-records.ts';
import type { SearchSpec, VersionOrderField } from './registry-search.ts';

/** A run registered more versions than this is a mistake; the page says that some are left out. */
const MAX_RUN_VERSIONS = 500;

export interface RunVersionOperations {
  /** The versions registered from a run, in projects the caller may see: by model name, newest version first. */
  versionsOfRun(caller: Caller, runId: string): { versions: ModelVersion[]; truncated: boolean };
}

export function runVersionOperations({ db }: RegistryDeps, access: RegistryAccess): RunVersionOperations {
  return {
    versionsOfRun(caller, runId) {
      // Versions registered from a bare path have an empty run id; they came from no run.
      if (runId === '') return { versions: [], truncated: false };
      const spec: SearchSpec<VersionOrderField> = {
        attributes: [{ field: 'run_id', comparator: '=', value: runId }],
        tags: [],
        excludePrompts: true,
        order: [
          { field: 'name', ascending: true },
          { field: 'version', ascending: false },
        ],
        offset: 0,
        maxResults: MAX_RUN_VERSIONS,
      };
      const rows = searchModelVersions(db, access.visibleProjectIds(caller.user), spec);
      return { versions: describeVersions(db, rows.slice(0, MAX_RUN_VERSIONS)), truncated: rows.length > MAX_RUN_VERSIONS };
    },
  };
}
