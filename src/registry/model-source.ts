import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { findExperimentById } from '../tracking/experiment-queries.ts';
import { findLoggedModel, type LoggedModelRecord } from '../tracking/logged-model-queries.ts';
import { findRun, type RunRecord } from '../tracking/run-queries.ts';
import type { Caller } from './registry-access.ts';
import { requireText } from './registry-validation.ts';

/** A version named inside a `models:/` URI: `name/3`, `name/latest`, `name/Production` or `name@champion`. */
export type VersionReference = { name: string } & ({ version: string } | { alias: string } | { stage: string } | { latest: true });

export interface SourceContext {
  db: Db;
  canSee(user: UserRecord, projectId: number): boolean;
  /** The storage location of a registered version the caller may see. */
  storageOf(caller: Caller, reference: VersionReference): string;
}

export interface ResolvedSource {
  source: string;
  storageLocation: string;
  runId: string;
  loggedModelId: string | null;
}

function invalidSource(source: string): never {
  throw invalidParameterValue(
    `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
  );
}

function fullyDecoded(text: string): string {
  let current = text;
  for (let round = 0; round < 10; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replaceAll('+', ' '));
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** As MLflow's server does: no local paths, and no `..` or `.` steps that could climb out of the artifact root. */
function checkSource(source: string): void {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(source)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') {
    throw invalidParameterValue(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
    );
  }
  const decoded = fullyDecoded(source);
  const afterScheme = decoded.slice(scheme.length + 1).replace(/[?#].*$/s, '');
  const path = afterScheme.startsWith('//') ? afterScheme.slice(2).replace(/^[^/]*/, '') : afterScheme;
  if (decoded.includes('\0') || decoded.split('/').some((part) => part === '..')) invalidSource(decoded);
  if (path !== '' && (!path.startsWith('/') || path.split('/').some((part) => part === '.'))) invalidSource(decoded);
}

function visibleRun(context: SourceContext, user: UserRecord, runId: string): RunRecord {
  const run = findRun(context.db, runId);
  const experiment = run && findExperimentById(context.db, run.experimentId);
  if (!run || !experiment || !context.canSee(user, experiment.projectId)) throw resourceDoesNotExist(`Run with id=${runId} not found`);
  return run;
}

function visibleLoggedModel(context: SourceContext, user: UserRecord, modelId: string): LoggedModelRecord {
  const model = findLoggedModel(context.db, modelId);
  const experiment = model && findExperimentById(context.db, model.experimentId);
  if (!model || !experiment || !context.canSee(user, experiment.projectId)) {
    throw resourceDoesNotExist(`Logged model with ID '${modelId}' not found.`);
  }
  return model;
}

function parseModelsUri(source: string): { loggedModelId: string } | VersionReference {
  const path = source.replace(/^models:\/*/, '');
  const at = path.indexOf('@');
  if (at > 0 && !path.includes('/')) return { name: path.slice(0, at), alias: path.slice(at + 1) };
  const parts = path.split('/');
  if (parts.length === 1 && parts[0] && at < 0) return { loggedModelId: parts[0] };
  const [name, suffix] = parts;
  if (parts.length !== 2 || !name || !suffix) {
    throw invalidParameterValue(
      `Not a proper models:/ URI: ${source}. Models URIs must be of the form 'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.`,
    );
  }
  if (/^\d+$/.test(suffix)) return { name, version: suffix };
  if (suffix.toLowerCase() === 'latest') return { name, latest: true };
  return { name, stage: suffix };
}

/**
 * Where a new version's files are: a run's artifacts for `runs:/<run>/<path>`, a logged model's for
 * `models:/m-<id>`, another version's for `models:/<name>/<version>` or `@alias`, else the source itself.
 */
export function resolveSource(
  context: SourceContext,
  caller: Caller,
  input: { source?: string | undefined; runId?: string | undefined; modelId?: string | undefined },
): ResolvedSource {
  const source = requireText(input.source, 'source');
  checkSource(source);
  let runId = input.runId ?? '';
  const loggedModelId = input.modelId ? visibleLoggedModel(context, caller.user, input.modelId).modelId : null;
  let storageLocation = source;
  const runUri = /^runs:\/+([^/]+)(?:\/(.*))?$/.exec(source);
  if (runUri) {
    const run = visibleRun(context, caller.user, runUri[1]!);
    const path = (runUri[2] ?? '').replace(/\/+$/, '');
    storageLocation = path ? `${run.artifactUri}/${path}` : run.artifactUri;
  } else if (/^models:/i.test(source)) {
    const target = parseModelsUri(source);
    if ('loggedModelId' in target) {
      const model = visibleLoggedModel(context, caller.user, target.loggedModelId);
      storageLocation = model.artifactUri;
      runId ||= model.sourceRunId ?? '';
    } else {
      storageLocation = context.storageOf(caller, target);
    }
  }
  return { source, storageLocation, runId, loggedModelId };
}
