import type { GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { JobRecord } from '../scheduler/jobs.ts';

/** What one scrape looked at, once, before rendering: every gauge of the scrape reads the same moment. */
export interface Observation {
  at: number;
  snapshot: GpuSnapshot;
  /** Jobs (serving replicas included) that are queued, starting or running. */
  activeJobs: JobRecord[];
  /** The names of the deployments that are not stopped or failed. */
  deployments: string[];
}
