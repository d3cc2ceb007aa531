import type { Audit } from '../audit/audit.ts';
import type { Projects } from '../auth/projects.ts';
import type { Db } from '../db/connection.ts';
import type { Bus } from '../lib/bus.ts';

export interface Tracking {}

export function createTracking(_deps: { db: Db; bus: Bus; now: () => number; projects: Projects; audit: Audit }): Tracking {
  return {};
}
