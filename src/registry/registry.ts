import type { Audit } from '../audit/audit.ts';
import type { Projects } from '../auth/projects.ts';
import type { Db } from '../db/connection.ts';
import type { Tracking } from '../tracking/tracking.ts';

export interface Registry {}

export function createRegistry(_deps: { db: Db; now: () => number; projects: Projects; tracking: Tracking; audit: Audit }): Registry {
  return {};
}
