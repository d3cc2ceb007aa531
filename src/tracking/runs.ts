import type { Audit } from '../audit/audit.ts';
import type { Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { newId } from '../lib/secrets.ts';
import type { Caller } from './access.ts';
import { parseExperimentId, type Experiments } from './experiments.ts';
import { entry, entryText, int64Of, integer, list, runIdOf, shown, text, type Message } from './message-fields.ts';
import type { RunDataReader } from './run-data-queries.ts';
import { runInfoJson, runJson, type RunInfoJson, type RunJson } from './run-json.ts';
import type { FoundRun, RunLookup } from './run-lookup.ts';
import { randomRunName } from './run-names.ts';
import { deleteRunTag, findRunTag, insertRun, insertRunInputs, updateRun, upsertRunOutputs, type RunStatus } from './run-queries.ts';
import { PARAM_LIMITS, RUN_NAME_TAG, RUN_TAG_LIMITS, writeParams, writeRunTags } from './run-writes.ts';
import { checkLength, checkName, keyValues, LIMITS } from './validation.ts';

type Empty = Record<string, never>;

export interface Runs {
  create(caller: Caller, message: Message): { run: RunJson };
  /** `outputs` as MLflow 3 answers runs/get; MLflow 2 has no such field. */
  get(caller: Caller, message: Message, shape: { outputs: boolean }): { run: RunJson };
  update(caller: Caller, message: Message): { run_info: RunInfoJson };
  delete(caller: Caller, message: Message): Empty;
  restore(caller: Caller, message: Message): Empty;
  setTag(caller: Caller, message: Message): Empty;
  deleteTag(caller: Caller, message: Message): Empty;
  logParam(caller: Caller, message: Message): Empty;
  logInputs(caller: Caller, message: Message): Empty;
  logModel(caller: Caller, message: Message): Empty;
  logOutputs(caller: Caller, message: Message): Empty;
  /** The run when the user holds `role` in its project (404 RESOURCE_DOES_NOT_EXIST otherwise), for other domains. */
  find(user: UserRecord, runId: string, role: Role): FoundRun;
}

const STATUSES: RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
const LOGGED_MODELS_TAG = 'mlflow.log-model.history';
const MODEL_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'];

/** RunStatus by name, or by its number in service.proto. */
function parseStatus(raw: unknown): RunStatus | undefined {
  if (raw === undefined || raw === null) return undefined;
  const status = typeof raw === 'number' || /^\d$/.test(String(raw)) ? STATUSES[Number(raw) - 1] : STATUSES.find((name) => name === raw);
  if (!status) throw invalidParameterValue(`Invalid value ${shown(raw)} for parameter 'status' supplied: use one of ${STATUSES.join(', ')}`);
  return status;
}

function datasetInputs(message: Message) {
  return list(message, 'datasets').map((raw, index) => {
    const path = `datasets[${index}]`;
    const input = entry(raw, path);
    const dataset = entry(input.dataset, `${path}.dataset`);
    const field = (name: string, limit: number, required: boolean) => {
      const value = entryText(dataset, name, `${path}.dataset`, required);
      return value === undefined ? null : checkLength(`dataset ${name}`, limit, value);
    };
    const tags = list(input, 'tags').map((rawTag, tagIndex) => {
      const tagPath = `${path}.tags[${tagIndex}]`;
      const tag = entry(rawTag, tagPath);
      return {
        key: checkLength('input tag key', LIMITS.inputTagKeyLength, entryText(tag, 'key', tagPath, true)!),
        value: checkLength('input tag value', LIMITS.inputTagValueLength, entryText(tag, 'value', tagPath, true)!),
      };
    });
    return {
      name: field('name', LIMITS.datasetNameLength, true)!,
      digest: field('digest', LIMITS.datasetDigestLength, true)!,
      sourceType: field('source_type', Number.MAX_SAFE_INTEGER, true)!,
      source: field('source', LIMITS.datasetSourceLength, true)!,
      schema: field('schema', LIMITS.datasetSchemaLength, false),
      profile: field('profile', LIMITS.datasetProfileLength, false),
      tags,
    };
  });
}

/** The history tag's JSON array with one more model, written by splicing text so earlier entries stay byte for byte. */
function appendModel(history: string | undefined, modelJson: string): string {
  if (history !== undefined) {
    let previous: unknown;
    try {
      previous = JSON.parse(history);
    } catch {
      previous = undefined;
    }
    if (Array.isArray(previous) && previous.length > 0) return `${history.trimEnd().slice(0, -1)}, ${modelJson}]`;
  }
  return `[${modelJson}]`;
}

export function createRuns(deps: { db: Db; now: () => number; audit: Audit; experiments: Experiments; lookup: RunLookup; readRunData: RunDataReader }): Runs {
  const { db, now, audit, experiments, lookup, readRunData } = deps;
  const transaction = <T>(work: () => T): T => db.$client.transaction(work)();
  const record = (caller: Caller, action: string, run: FoundRun) =>
    audit.record({ actor: caller.user.username, ip: caller.ip, action, target: `run ${run.runUuid} (${run.name})` });
  const writable = (caller: Caller, message: Message) => lookup.writable(caller.user, runIdOf(message));

  return {
    create(caller, message) {
      const experiment = experiments.authorize(caller.user, parseExperimentId(text(message, 'experiment_id') || '0'), 'editor');
      if (experiment.lifecycleStage !== 'active') {
        throw invalidParameterValue(`The experiment ${experiment.id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
      }
      const tags = keyValues(message, 'tags', RUN_TAG_LIMITS);
      const requested = text(message, 'run_name') || undefined;
      const tagged = tags.find(({ key }) => key === RUN_NAME_TAG)?.value;
      if (requested && tagged && requested !== tagged) {
        throw invalidParameterValue(
          `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${requested}', mlflow.runName='${tagged}').`,
        );
      }
      const name = checkLength('run_name', LIMITS.tagValueLength, requested ?? tagged ?? randomRunName());
      if (tagged === undefined) tags.push({ key: RUN_NAME_TAG, value: name });
      const runUuid = newId();
      const run = {
        runUuid,
        experimentId: experiment.id,
        name,
        userId: text(message, 'user_id') || caller.user.username,
        status: 'RUNNING' as const,
        startTime: integer(message, 'start_time') ?? now(),
        endTime: null,
        artifactUri: `${experiment.artifactLocation}/${runUuid}/artifacts`,
        lifecycleStage: 'active' as const,
        deletedTime: null,
      };
      transaction(() => insertRun(db, run, tags));
      return { run: runJson(run, { metrics: [], params: [], tags, inputs: [], outputs: [] }, false) };
    },

    get(caller, message, shape) {
      const run = lookup.find(caller.user, runIdOf(message), 'viewer');
      return { run: runJson(run, readRunData([run.runUuid], shape.outputs).get(run.runUuid)!, shape.outputs) };
    },

    update(caller, message) {
      const run = writable(caller, message);
      const status = parseStatus(message.status);
      const endTime = integer(message, 'end_time');
      const name = text(message, 'run_name');
      const changes = {
        ...(status && { status }),
        ...(endTime !== undefined && { endTime }),
        ...(name && { name: checkLength('run_name', LIMITS.tagValueLength, name) }),
      };
      transaction(() => {
        updateRun(db, run.runUuid, changes);
        if (name) writeRunTags(db, run.runUuid, [{ key: RUN_NAME_TAG, value: name }]);
      });
      return { run_info: runInfoJson({ ...run, ...changes }) };
    },

    delete(caller, message) {
      const run = lookup.find(caller.user, runIdOf(message), 'editor');
      updateRun(db, run.runUuid, { lifecycleStage: 'deleted', deletedTime: now() });
      record(caller, 'run.delete', run);
      return {};
    },

    restore(caller, message) {
      const run = lookup.find(caller.user, runIdOf(message), 'editor');
      updateRun(db, run.runUuid, { lifecycleStage: 'active', deletedTime: null });
      record(caller, 'run.restore', run);
      return {};
    },

    setTag(caller, message) {
      const run = writable(caller, message);
      const key = checkName('Tag key', text(message, 'key', true), 'key');
      const value = checkLength('Tag value', LIMITS.tagValueLength, text(message, 'value') ?? '');
      transaction(() => writeRunTags(db, run.runUuid, [{ key, value }]));
      return {};
    },

    deleteTag(caller, message) {
      const run = writable(caller, message);
      const key = text(message, 'key', true);
      if (!deleteRunTag(db, run.runUuid, key)) throw resourceDoesNotExist(`No tag with name: ${key} in run with id ${run.runUuid}`);
      return {};
    },

    logParam(caller, message) {
      const run = writable(caller, message);
      const key = checkName('Param key', text(message, 'key', true), 'key');
      const value = checkLength('Param value', PARAM_LIMITS.valueLength, text(message, 'value') ?? '');
      transaction(() => writeParams(db, run.runUuid, [{ key, value }], 'single'));
      return {};
    },

    logInputs(caller, message) {
      const run = writable(caller, message);
      const inputs = datasetInputs(message);
      list(message, 'models'); // MLflow 3's model inputs: accepted, not kept
      transaction(() => insertRunInputs(db, inputs.map((input) => ({ ...input, runUuid: run.runUuid }))));
      return {};
    },

    logModel(caller, message) {
      const run = writable(caller, message);
      const modelJson = text(message, 'model_json', true);
      let model: unknown;
      try {
        model = JSON.parse(modelJson);
      } catch {
        model = undefined;
      }
      if (model === null || typeof model !== 'object' || Array.isArray(model)) {
        throw invalidParameterValue(`Malformed model info. \n ${modelJson.slice(0, 1000)} \n is not a valid JSON.`);
      }
      const missing = MODEL_FIELDS.filter((field) => !(field in model));
      if (missing.length > 0) {
        throw invalidParameterValue(`Model json is missing mandatory fields: {${missing.map((field) => `'${field}'`).join(', ')}}`);
      }
      transaction(() => writeRunTags(db, run.runUuid, [{ key: LOGGED_MODELS_TAG, value: appendModel(findRunTag(db, run.runUuid, LOGGED_MODELS_TAG), modelJson) }]));
      return {};
    },

    logOutputs(caller, message) {
      const run = writable(caller, message);
      const models = list(message, 'models');
      if (models.length === 0) throw invalidParameterValue(`Missing value for required parameter 'models'.`);
      const outputs = models.map((raw, index) => {
        const model = entry(raw, `models[${index}]`);
        return { modelId: entryText(model, 'model_id', `models[${index}]`, true)!, step: int64Of(model.step, `models[${index}].step`) ?? 0 };
      });
      transaction(() => upsertRunOutputs(db, run.runUuid, outputs));
      return {};
    },

    find: (user, runId, role) => lookup.find(user, runId, role),
  };
}
