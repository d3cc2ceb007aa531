import type { Audit } from '../audit/audit.ts';
import type { Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue, resourceAlreadyExists, resourceDoesNotExist } from '../lib/errors.ts';
import { parseOrderBy, parseSearchFilter } from '../lib/search-filter.ts';
import { PROJECT_TAG } from '../auth/projects.ts';
import type { Caller, TrackingAccess } from './access.ts';
import {
  deleteExperimentTag,
  findExperimentById,
  findExperimentByName,
  insertExperiment,
  listExperimentTags,
  nextExperimentId,
  summarizeRuns,
  updateExperiment,
  upsertExperimentTags,
  type ExperimentRecord,
  type RunActivity,
  type Tag,
} from './experiment-queries.ts';
import { searchExperimentRows } from './experiment-search-queries.ts';
import { entry, entryText, integer, list, text, texts, type Message } from './message-fields.ts';
import { nextPageToken, parsePageToken } from '../lib/page-token.ts';
import { markExperimentRunsDeleted, restoreExperimentRuns } from './run-queries.ts';
import { lifecycleStages } from './search-conditions.ts';
import { checkLength, checkName, LIMITS } from './validation.ts';

export type { RunActivity };

/** MLflow's Experiment message. */
export interface ExperimentJson {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags?: Tag[];
}

export interface Experiments {
  /** MLflow's Default experiment (id 0), which the client logs to when none is chosen; in the default project. */
  ensureDefault(): void;
  create(caller: Caller, message: Message): { experiment_id: string };
  get(caller: Caller, message: Message): { experiment: ExperimentJson };
  getByName(caller: Caller, message: Message): { experiment: ExperimentJson };
  search(caller: Caller, message: Message): { experiments?: ExperimentJson[]; next_page_token?: string };
  rename(caller: Caller, message: Message): Record<string, never>;
  delete(caller: Caller, message: Message): Record<string, never>;
  restore(caller: Caller, message: Message): Record<string, never>;
  setTag(caller: Caller, message: Message): Record<string, never>;
  deleteTag(caller: Caller, message: Message): Record<string, never>;
  /** Active runs and the latest run's start of each experiment by id; experiments out of the caller's sight are left out. */
  runActivity(caller: Caller, experimentIds: string[]): Map<string, RunActivity>;
  /** The experiment, when the user holds `role` in its project; 404 when it is missing or out of their sight. */
  authorize(user: UserRecord, experimentId: number, role: Role): ExperimentRecord;
}

const DEFAULT_EXPERIMENT_ID = 0;
const SEARCH_MAX_RESULTS_DEFAULT = 1000;
const SEARCH_MAX_RESULTS = 50000;

const experimentNotFound = (id: number | string) => resourceDoesNotExist(`No Experiment with id=${id} exists`);

export function parseExperimentId(raw: string): number {
  const id = /^\s*\d{1,15}\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw invalidParameterValue(`Invalid experiment ID: '${raw}'`);
  return id;
}

const artifactLocationOf = (id: number) => `mlflow-artifacts:/${id}`;

function checkExperimentName(name: string): string {
  if (name.length > LIMITS.experimentNameLength) {
    throw invalidParameterValue(`Experiment name exceeds the maximum length of ${LIMITS.experimentNameLength} characters`);
  }
  return name;
}

function experimentTag(key: string | undefined, value: string | undefined, path: string): Tag {
  return {
    key: checkName('Tag key', key, `${path}key`),
    value: checkLength('value', LIMITS.experimentTagValueLength, value ?? ''),
  };
}

const mustBeActive = (experiment: ExperimentRecord) => {
  if (experiment.lifecycleStage !== 'active') {
    throw invalidParameterValue(`The experiment ${experiment.id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
  }
};

export function createExperiments(deps: { db: Db; now: () => number; access: TrackingAccess; audit: Audit }): Experiments {
  const { db, now, access, audit } = deps;

  const toJson = (experiment: ExperimentRecord, tags: Tag[] | undefined): ExperimentJson => ({
    experiment_id: String(experiment.id),
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    ...(tags && tags.length > 0 && { tags }),
  });
  const withTags = (experiment: ExperimentRecord) => toJson(experiment, listExperimentTags(db, [experiment.id]).get(experiment.id));

  const authorize = (user: UserRecord, experimentId: number, role: Role): ExperimentRecord => {
    const experiment = findExperimentById(db, experimentId);
    if (!experiment) throw experimentNotFound(experimentId);
    access.require(user, experiment.projectId, role, () => experimentNotFound(experimentId));
    return experiment;
  };
  const named = (caller: Caller, message: Message, role: Role) =>
    authorize(caller.user, parseExperimentId(text(message, 'experiment_id', true)), role);
  const record = (caller: Caller, action: string, experiment: ExperimentRecord, detail?: Record<string, unknown>) =>
    audit.record({ actor: caller.user.username, ip: caller.ip, action, target: `experiment ${experiment.id} (${experiment.name})`, detail });

  return {
    ensureDefault() {
      if (findExperimentById(db, DEFAULT_EXPERIMENT_ID)) return;
      const at = now();
      insertExperiment(db, {
        id: DEFAULT_EXPERIMENT_ID,
        projectId: access.defaultProjectId(),
        name: 'Default',
        artifactLocation: artifactLocationOf(DEFAULT_EXPERIMENT_ID),
        creationTime: at,
        lastUpdateTime: at,
      });
    },

    create(caller, message) {
      const name = checkExperimentName(text(message, 'name', true));
      text(message, 'artifact_location'); // accepted for the client's sake; artifacts always live in the appliance
      const tags = list(message, 'tags').map((raw, index) => {
        const item = entry(raw, `tags[${index}]`);
        return experimentTag(entryText(item, 'key', `tags[${index}]`, true), entryText(item, 'value', `tags[${index}]`), `tags[${index}].`);
      });
      const project = access.projectForNewExperiment(caller.user, tags.find(({ key }) => key === PROJECT_TAG)?.value);
      const experiment = db.$client
        .transaction(() => {
          if (findExperimentByName(db, name)) throw resourceAlreadyExists(`Experiment(name=${name}) already exists.`);
          const id = nextExperimentId(db);
          const at = now();
          const created = insertExperiment(db, { id, projectId: project.id, name, artifactLocation: artifactLocationOf(id), creationTime: at, lastUpdateTime: at });
          upsertExperimentTags(db, id, tags.filter(({ key }) => key !== PROJECT_TAG));
          return created;
        })
        .immediate();
      record(caller, 'experiment.create', experiment, { project: project.name });
      return { experiment_id: String(experiment.id) };
    },

    get(caller, message) {
      return { experiment: withTags(named(caller, message, 'viewer')) };
    },

    getByName(caller, message) {
      const name = text(message, 'experiment_name', true);
      const missing = () => resourceDoesNotExist(`Could not find experiment with name '${name}'`);
      const experiment = findExperimentByName(db, name);
      if (!experiment) throw missing();
      access.require(caller.user, experiment.projectId, 'viewer', missing);
      return { experiment: withTags(experiment) };
    },

    search(caller, message) {
      const maxResults = integer(message, 'max_results') ?? SEARCH_MAX_RESULTS_DEFAULT;
      if (maxResults < 1 || maxResults > SEARCH_MAX_RESULTS) {
        throw invalidParameterValue(
          `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be between 1 and ${SEARCH_MAX_RESULTS}.`,
        );
      }
      const offset = parsePageToken(text(message, 'page_token'));
      const rows = searchExperimentRows(db, {
        clauses: parseSearchFilter(text(message, 'filter')),
        orders: texts(message, 'order_by').map(parseOrderBy),
        stages: lifecycleStages(message.view_type, 'view_type'),
        projectIds: access.visibleProjectIds(caller.user),
        limit: maxResults + 1,
        offset,
      });
      const page = rows.slice(0, maxResults);
      const tags = listExperimentTags(db, page.map(({ id }) => id));
      const next = nextPageToken(rows.length, offset, maxResults);
      return {
        ...(page.length > 0 && { experiments: page.map((experiment) => toJson(experiment, tags.get(experiment.id))) }),
        ...(next && { next_page_token: next }),
      };
    },

    rename(caller, message) {
      const experiment = named(caller, message, 'editor');
      const newName = checkExperimentName(text(message, 'new_name', true));
      if (experiment.lifecycleStage !== 'active') throw invalidParameterValue('Cannot rename a non-active experiment.');
      const taken = findExperimentByName(db, newName);
      if (taken && taken.id !== experiment.id) throw resourceAlreadyExists(`Experiment(name=${newName}) already exists.`);
      updateExperiment(db, experiment.id, { name: newName, lastUpdateTime: now() });
      record(caller, 'experiment.rename', experiment, { to: newName });
      return {};
    },

    delete(caller, message) {
      const experiment = named(caller, message, 'editor');
      if (experiment.lifecycleStage !== 'active') throw experimentNotFound(experiment.id);
      const at = now();
      db.$client.transaction(() => {
        updateExperiment(db, experiment.id, { lifecycleStage: 'deleted', lastUpdateTime: at });
        markExperimentRunsDeleted(db, experiment.id, at);
      })();
      record(caller, 'experiment.delete', experiment);
      return {};
    },

    restore(caller, message) {
      const experiment = named(caller, message, 'editor');
      if (experiment.lifecycleStage !== 'deleted') throw experimentNotFound(experiment.id);
      db.$client.transaction(() => {
        updateExperiment(db, experiment.id, { lifecycleStage: 'active', lastUpdateTime: now() });
        // The runs that went with the experiment come back with it; runs deleted on their own before stay deleted.
        restoreExperimentRuns(db, experiment.id, experiment.lastUpdateTime);
      })();
      record(caller, 'experiment.restore', experiment);
      return {};
    },

    setTag(caller, message) {
      const experiment = named(caller, message, 'editor');
      const tag = experimentTag(text(message, 'key', true), text(message, 'value'), '');
      mustBeActive(experiment);
      db.$client.transaction(() => {
        upsertExperimentTags(db, experiment.id, [tag]);
        updateExperiment(db, experiment.id, { lastUpdateTime: now() });
      })();
      return {};
    },

    deleteTag(caller, message) {
      const experiment = named(caller, message, 'editor');
      const key = text(message, 'key', true);
      mustBeActive(experiment);
      if (!deleteExperimentTag(db, experiment.id, key)) {
        throw resourceDoesNotExist(`No tag with name: ${key} in experiment with id ${experiment.id}`);
      }
      updateExperiment(db, experiment.id, { lastUpdateTime: now() });
      return {};
    },

    runActivity(caller, experimentIds) {
      const ids = experimentIds.map(parseExperimentId);
      const activity = summarizeRuns(db, ids, access.visibleProjectIds(caller.user));
      return new Map([...activity].map(([id, summary]) => [String(id), summary]));
    },

    authorize,
  };
}
