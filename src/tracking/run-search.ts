import type { Db } from '../db/connection.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import { parseOrderBy, parseSearchFilter } from '../lib/search-filter.ts';
import type { Caller, TrackingAccess } from './access.ts';
import { filterExperimentIds } from './experiment-queries.ts';
import { parseExperimentId } from './experiments.ts';
import { integer, text, texts, type Message } from './message-fields.ts';
import { nextPageToken, parsePageToken } from '../lib/page-token.ts';
import type { RunDataReader } from './run-data-queries.ts';
import { runJson, type RunJson } from './run-json.ts';
import type { RunSearchQueries } from './run-search-queries.ts';
import { lifecycleStages } from './search-conditions.ts';

export type RunSearchResult = { runs?: RunJson[]; next_page_token?: string };

const MAX_RESULTS_DEFAULT = 1000;
const MAX_RESULTS = 50000;

/**
 * MLflow's runs/search over the experiments the caller may see: filter, order_by (several), max_results and
 * offset page tokens. Experiments out of the caller's sight add nothing, as unknown ones do in MLflow.
 */
export function createRunSearch(deps: { db: Db; access: TrackingAccess; readRunData: RunDataReader; searchRunRows: RunSearchQueries }) {
  const { db, access, readRunData, searchRunRows } = deps;

  return function searchRuns(caller: Caller, message: Message): RunSearchResult {
    const maxResults = integer(message, 'max_results') ?? MAX_RESULTS_DEFAULT;
    if (maxResults < 1 || maxResults > MAX_RESULTS) {
      throw invalidParameterValue(
        `Invalid value ${maxResults} for parameter 'max_results' supplied. See the API docs for more information about request parameters.`,
      );
    }
    const offset = parsePageToken(text(message, 'page_token'));
    const requested = texts(message, 'experiment_ids').map(parseExperimentId);
    const rows = searchRunRows({
      experimentIds: filterExperimentIds(db, requested, access.visibleProjectIds(caller.user)),
      stages: lifecycleStages(message.run_view_type, 'run_view_type'),
      clauses: parseSearchFilter(text(message, 'filter')),
      orders: texts(message, 'order_by').map(parseOrderBy),
      limit: maxResults + 1,
      offset,
    });
    const page = rows.slice(0, maxResults);
    const data = readRunData(page.map(({ runUuid }) => runUuid), false);
    const next = nextPageToken(rows.length, offset, maxResults);
    return {
      ...(page.length > 0 && { runs: page.map((run) => runJson(run, data.get(run.runUuid)!, false)) }),
      ...(next && { next_page_token: next }),
    };
  };
}
