import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Users } from '../auth/users.ts';
import type { Db } from '../db/connection.ts';
import type { GpuInventory } from '../gpu/gpu-types.ts';
import type { Log } from '../lib/log.ts';
import type { MonitorSample } from '../monitoring/sample.ts';
import { findJobAllocations, listJobAllocations, type JobAllocation } from '../scheduler/job-allocation-queries.ts';
import type { Jobs } from '../scheduler/jobs.ts';
import { gpuShares } from './gpu-share.ts';
import { usageOfRound } from './sample-usage.ts';
import type { UsageQuery } from './usage-query.ts';
import { listUsageDays, prepareUsageUpsert } from './usage-queries.ts';
import { buildUsageReport, type UsageReport } from './usage-report.ts';
import { DAY_MS, dayStart } from './utc-days.ts';

export interface Accounting {
  /** Adds a sampler round to its jobs' days; logs rather than throws, as it runs inside the bus's publish. */
  record(sample: MonitorSample): void;
  /**
   * GPU-hours allocated and used, CPU- and memory-hours, per group and UTC day. Site admins see everyone's; others
   * see, by user, their own jobs, and by project or day, the jobs of the projects they belong to.
   */
  usage(viewer: UserRecord, query: UsageQuery): Promise<UsageReport>;
}

export interface AccountingDeps {
  db: Db;
  log: Log;
  now: () => number;
  jobs: Pick<Jobs, 'byId'>;
  gpus: Pick<GpuInventory, 'list'>;
  projects: Pick<Projects, 'listFor'>;
  users: Pick<Users, 'byId'>;
}

export function createAccounting(deps: AccountingDeps): Accounting {
  const { db, log, now } = deps;
  // Prepared on the first round: the app is built before its database is migrated.
  let upsert: ReturnType<typeof prepareUsageUpsert> | undefined;
  /** The rounds' jobs' `gpuMemory`, kept while they keep appearing: a round looks up only the jobs new to it. */
  let reservations = new Map<number, number | null>();
  let failing = false;

  const reservationsOf = (sample: MonitorSample) => {
    const ids = new Set([...sample.gpus.flatMap((gpu) => gpu.holders.map((holder) => holder.jobId)), ...sample.containers.map((container) => container.jobId)]);
    const next = new Map<number, number | null>();
    for (const id of ids) {
      const known = reservations.has(id) ? reservations.get(id) : deps.jobs.byId(id)?.gpuMemory;
      if (known !== undefined) next.set(id, known);
    }
    reservations = next;
    return next;
  };

  /** The group each job counts in, by `query.by`, among those `viewer` may see. */
  const grouping = (viewer: UserRecord, query: UsageQuery): ((job: JobAllocation) => string | undefined) => {
    if (query.by === 'user') {
      const names = new Map<number, string>();
      return (job) => {
        if (!viewer.isAdmin && job.userId !== viewer.id) return undefined;
        if (!names.has(job.userId)) names.set(job.userId, deps.users.byId(job.userId)?.username ?? `user ${job.userId}`);
        return names.get(job.userId);
      };
    }
    const projects = new Map(deps.projects.listFor(viewer).map(({ project }) => [project.id, project.name]));
    return query.by === 'project' ? (job) => projects.get(job.projectId) : (job) => (projects.has(job.projectId) ? 'all' : undefined);
  };

  return {
    record(sample) {
      try {
        const gpuMemory = reservationsOf(sample);
        (upsert ??= prepareUsageUpsert(db))(usageOfRound(sample, (id) => gpuMemory.get(id)));
        if (failing) log.info('usage accounting records sampler rounds again');
        failing = false;
      } catch (error) {
        // Once per run of failures: a full disk would otherwise log every few seconds.
        if (!failing) log.error({ err: error }, 'usage accounting could not record a sampler round');
        failing = true;
      }
    },

    async usage(viewer, query) {
      const at = now();
      const shareOf = gpuShares(await deps.gpus.list());
      const allocations = listJobAllocations(db, { start: dayStart(query.from), end: dayStart(query.to) + DAY_MS });
      const usage = listUsageDays(db, query.from, query.to);
      const known = new Set(allocations.map((job) => job.id));
      const missing = [...new Set(usage.map((row) => row.jobId))].filter((id) => !known.has(id));
      const jobs = [...allocations, ...findJobAllocations(db, missing)];
      return buildUsageReport({ query, now: at, jobs, usage, shareOf, groupOf: grouping(viewer, query) });
    },
  };
}
