import type { Projects, Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import { createExperimentAccess } from '../artifacts/experiment-access.ts';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { newId } from '../lib/secrets.ts';
import {
  deleteLoggedModelTag,
  findLoggedModel,
  findLoggedModels,
  insertLoggedModel,
  insertLoggedModelParams,
  listLoggedModelMetrics,
  listLoggedModelParams,
  listLoggedModelTags,
  searchLoggedModelIds,
  updateLoggedModel,
  upsertLoggedModelTags,
  type KeyValue,
  type LoggedModelRecord,
  type ModelMetricRow,
} from './logged-model-queries.ts';
import { planModelSearch } from './logged-model-search.ts';
import { entry, entryText, invalidValue, list, missingValue, text, type Message } from './message-fields.ts';
import { nextPageToken } from '../lib/page-token.ts';
import { randomRunName } from './run-names.ts';
import { checkLength, LIMITS } from './validation.ts';

/** A logged model with everything MLflow shows of it. */
export interface LoggedModel {
  record: LoggedModelRecord;
  tags: KeyValue[];
  params: KeyValue[];
  metrics: ModelMetricRow[];
}

export type LoggedModelStatus = LoggedModelRecord['status'];

/**
 * MLflow 3's logged models (service.proto CreateLoggedModel ... SearchLoggedModels): the model a `log_model`
 * call creates in an experiment, PENDING until its artifacts are uploaded and the client finalizes it.
 * Requests arrive as MLflow messages (a JSON body, or a GET's query) and are checked here.
 */
export interface LoggedModels {
  create(user: UserRecord, message: Message): LoggedModel;
  get(user: UserRecord, modelId: string): LoggedModel;
  finalize(user: UserRecord, modelId: string, message: Message): LoggedModel;
  remove(user: UserRecord, modelId: string): void;
  setTags(user: UserRecord, modelId: string, message: Message): void;
  deleteTag(user: UserRecord, modelId: string, key: string): void;
  logParams(user: UserRecord, modelId: string, message: Message): void;
  search(user: UserRecord, message: Message): { models: LoggedModel[]; nextPageToken?: string };
}

const STATUSES: readonly LoggedModelStatus[] = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'];
/** The proto enum's numbers, which protobuf's JSON also accepts; 0 is UNSPECIFIED, not a status to set. */
const STATUS_NUMBERS: Record<number, LoggedModelStatus> = { 1: 'LOGGED_MODEL_PENDING', 2: 'LOGGED_MODEL_READY', 3: 'LOGGED_MODEL_UPLOAD_FAILED' };
const NAME_FORBIDDEN = /[/:.%"']/;

function parseStatus(message: Message): LoggedModelStatus {
  const value = message.status;
  if (value === undefined || value === null || value === '') throw missingValue('status');
  const status = typeof value === 'number' ? STATUS_NUMBERS[value] : STATUSES.find((name) => name === value);
  if (!status) throw invalidValue('status', value, `Expected one of ${STATUSES.join(', ')}.`);
  return status;
}

/** MLflow's _validate_logged_model_name: the name becomes part of URIs, so no separators or quotes. */
function checkModelName(name: string): string {
  if (NAME_FORBIDDEN.test(name)) {
    throw invalidParameterValue(
      `Invalid model name (${JSON.stringify(name)}) provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '"', "'")`,
    );
  }
  return checkLength('Model name', LIMITS.keyLength, name);
}

/**
 * `tags` or `params` of a request: keys present and at most 250 long, values within MLflow's limits. Repeated keys
 * keep the last value.
 */
function keyValuesOf(message: Message, field: 'tags' | 'params'): KeyValue[] {
  const what = field === 'tags' ? 'Tag' : 'Param';
  const valueLength = field === 'tags' ? LIMITS.tagValueLength : LIMITS.paramValueLength;
  const byKey = new Map<string, string>();
  for (const [index, raw] of list(message, field).entries()) {
    const path = `${field}[${index}]`;
    const item = entry(raw, path);
    const key = checkLength(`${what} key`, LIMITS.keyLength, entryText(item, 'key', path, true)!);
    byKey.set(key, checkLength(`${what} value`, valueLength, entryText(item, 'value', path) ?? ''));
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

export function createLoggedModels(deps: { db: Db; now: () => number; projects: Projects }): LoggedModels {
  const { db } = deps;
  const access = createExperimentAccess(deps);
  const notFound = (modelId: string) => () => resourceDoesNotExist(`Logged model with ID '${modelId}' not found.`);

  /** The active model, when the user holds `role` in its experiment's project. */
  const authorized = (user: UserRecord, modelId: string, role: Role): LoggedModelRecord => {
    const record = findLoggedModel(db, modelId);
    if (!record || record.lifecycleStage !== 'active') throw notFound(modelId)();
    access.experiment(user, String(record.experimentId), role, notFound(modelId));
    return record;
  };

  const hydrate = (records: LoggedModelRecord[]): LoggedModel[] => {
    const ids = records.map(({ modelId }) => modelId);
    const tags = listLoggedModelTags(db, ids);
    const params = listLoggedModelParams(db, ids);
    const metrics = listLoggedModelMetrics(db, ids);
    const plain = (rows: Array<KeyValue & { modelId: string }> = []) => rows.map(({ key, value }) => ({ key, value }));
    return records.map((record) => ({
      record,
      tags: plain(tags.get(record.modelId)),
      params: plain(params.get(record.modelId)),
      metrics: metrics.get(record.modelId) ?? [],
    }));
  };
  const one = (record: LoggedModelRecord) => hydrate([record])[0]!;

  return {
    create(user, message) {
      const experimentId = text(message, 'experiment_id', true);
      const experiment = access.experiment(user, experimentId, 'editor');
      if (experiment.lifecycleStage !== 'active') {
        throw invalidParameterValue(`The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
      }
      const name = text(message, 'name');
      const tags = keyValuesOf(message, 'tags');
      const params = keyValuesOf(message, 'params');
      const modelId = `m-${newId()}`;
      const now = deps.now();
      const record = insertLoggedModel(
        db,
        {
          modelId,
          experimentId: experiment.id,
          name: name ? checkModelName(name) : randomRunName(),
          artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
          status: 'LOGGED_MODEL_PENDING',
          modelType: text(message, 'model_type') ?? '',
          sourceRunId: text(message, 'source_run_id') || null,
          creationTimestampMs: now,
          lastUpdatedTimestampMs: now,
        },
        tags,
        params,
      );
      return one(record);
    },

    get(user, modelId) {
      return one(authorized(user, modelId, 'viewer'));
    },

    finalize(user, modelId, message) {
      authorized(user, modelId, 'editor');
      const status = parseStatus(message);
      return one(updateLoggedModel(db, modelId, { status, lastUpdatedTimestampMs: deps.now() })!);
    },

    remove(user, modelId) {
      authorized(user, modelId, 'editor');
      updateLoggedModel(db, modelId, { lifecycleStage: 'deleted', lastUpdatedTimestampMs: deps.now() });
    },

    setTags(user, modelId, message) {
      authorized(user, modelId, 'editor');
      upsertLoggedModelTags(db, modelId, keyValuesOf(message, 'tags'));
    },

    deleteTag(user, modelId, key) {
      authorized(user, modelId, 'editor');
      if (!deleteLoggedModelTag(db, modelId, key)) {
        throw resourceDoesNotExist(`No tag with key ${JSON.stringify(key)} found for model with ID '${modelId}'.`);
      }
    },

    logParams(user, modelId, message) {
      authorized(user, modelId, 'editor');
      const params = keyValuesOf(message, 'params');
      insertLoggedModelParams(db, modelId, params, (existing) => {
        for (const stored of existing) {
          const value = params.find(({ key }) => key === stored.key)!.value;
          if (value !== stored.value) {
            throw invalidParameterValue(
              `Changing param values is not allowed. Param with key='${stored.key}' was already logged with value='${stored.value}' for logged model ID '${modelId}'. Attempted logging new value '${value}'.`,
            );
          }
        }
      });
    },

    search(user, message) {
      const plan = planModelSearch(message, (experimentId) => access.canView(user, experimentId));
      if (plan.experimentIds.length === 0) return { models: [] };
      const ids = searchLoggedModelIds(db, { ...plan, limit: plan.limit + 1 });
      const page = ids.slice(0, plan.limit);
      const records = new Map(findLoggedModels(db, page).map((record) => [record.modelId, record]));
      const models = hydrate(page.map((id) => records.get(id)!));
      const next = nextPageToken(ids.length, plan.offset, plan.limit);
      return next ? { models, nextPageToken: next } : { models };
    },
  };
}
