import type { Db } from '../db/connection.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import type { Caller } from './access.ts';
import type { Experiments } from './experiments.ts';
import { texts, type Message } from './message-fields.ts';
import { findDatasetSummaries } from './run-queries.ts';

const MAX_EXPERIMENTS = 20;
const MAX_SUMMARIES = 1000;

export interface DatasetSummaryJson {
  experiment_id: string;
  name: string;
  digest: string;
  context?: string;
}

/** MLflow's `experiments/search-datasets`: which datasets the runs of up to 20 experiments used. */
export function createDatasetSearch(deps: { db: Db; experiments: Experiments }) {
  return function searchDatasets(caller: Caller, message: Message): { dataset_summaries?: DatasetSummaryJson[] } {
    const experimentIds = texts(message, 'experiment_ids');
    if (experimentIds.length === 0) throw invalidParameterValue('SearchDatasets request must specify at least one experiment_id.');
    if (experimentIds.length > MAX_EXPERIMENTS) {
      throw invalidParameterValue(
        `SearchDatasets request cannot specify more than ${MAX_EXPERIMENTS} experiment_ids. Received ${experimentIds.length} experiment_ids.`,
      );
    }
    // Reading each experiment checks the caller may see it (an unseen one is RESOURCE_DOES_NOT_EXIST).
    const ids = experimentIds.map((experimentId) => Number(deps.experiments.get(caller, { experiment_id: experimentId }).experiment.experiment_id));
    const summaries = findDatasetSummaries(deps.db, ids, MAX_SUMMARIES).map(({ experimentId, name, digest, context }) => ({
      experiment_id: String(experimentId),
      name,
      digest,
      ...(context !== null && { context }),
    }));
    return summaries.length > 0 ? { dataset_summaries: summaries } : {};
  };
}
