import type { Audit } from '../audit/audit.ts';
import type { Projects } from '../auth/projects.ts';
import type { Db } from '../db/connection.ts';
import type { Bus } from '../lib/bus.ts';
import { createTrackingAccess, type Caller } from './access.ts';
import { createDatasetSearch } from './dataset-search.ts';
import { createExperiments, type Experiments } from './experiments.ts';
import type { Message } from './message-fields.ts';
import { createMetricHistory, type MetricHistory } from './metric-history.ts';
import { createMetricIngest, type MetricIngest } from './metric-ingest.ts';
import { createMetricStatements } from './metric-queries.ts';
import { createMetricSeries } from './metric-series.ts';
import { createMetricSeriesQueries } from './metric-series-queries.ts';
import { createRunDataReader } from './run-data-queries.ts';
import { createRunLookup } from './run-lookup.ts';
import { createRunSearch, type RunSearchResult } from './run-search.ts';
import { createRunSearchQueries } from './run-search-queries.ts';
import { createRuns, type Runs } from './runs.ts';

export type { Caller, Message };

/**
 * Experiment tracking with MLflow's semantics: each method takes an MLflow request message and answers with the
 * response message MLflow's REST API sends, so the routes only move JSON. Every call is checked against the
 * caller's role in the project the experiment belongs to.
 */
export interface Tracking {
  experiments: Experiments & { searchDatasets: ReturnType<typeof createDatasetSearch> };
  runs: Runs & { search(caller: Caller, message: Message): RunSearchResult };
  metrics: MetricIngest & MetricHistory & { series: ReturnType<typeof createMetricSeries> };
}

export function createTracking(deps: { db: Db; bus: Bus; now: () => number; projects: Projects; audit: Audit }): Tracking {
  const { db, now, audit } = deps;
  const access = createTrackingAccess(deps.projects);
  const lookup = createRunLookup(db, access);
  const readRunData = createRunDataReader(db);
  const statements = createMetricStatements(db);
  const experiments = createExperiments({ db, now, access, audit });
  return {
    experiments: { ...experiments, searchDatasets: createDatasetSearch({ db, experiments }) },
    runs: {
      ...createRuns({ db, now, audit, experiments, lookup, readRunData }),
      search: createRunSearch({ db, access, readRunData, searchRunRows: createRunSearchQueries(db) }),
    },
    metrics: {
      ...createMetricIngest({ db, lookup, statements }),
      ...createMetricHistory({ lookup, statements }),
      series: createMetricSeries({ lookup, readMetricColumns: createMetricSeriesQueries(db) }),
    },
  };
}
