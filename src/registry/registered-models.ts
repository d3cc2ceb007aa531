import { invalidParameterValue, resourceAlreadyExists } from '../lib/errors.ts';
import { nextPageToken } from '../lib/page-token.ts';
import { findModelVersion, touchVersionsOf } from './model-version-queries.ts';
import {
  deleteAlias,
  deleteModelTag,
  deleteRegisteredModel,
  findAliasVersion,
  findRegisteredModel,
  insertRegisteredModel,
  searchRegisteredModels,
  updateRegisteredModel,
  upsertAlias,
  upsertModelTag,
} from './registered-model-queries.ts';
import type { Caller, RegistryAccess, RegistryDeps } from './registry-access.ts';
import { describeModel, describeModels, describeVersion, type ModelVersion, type RegisteredModel } from './registry-records.ts';
import { parseModelSearch, type SearchInput } from './registry-search.ts';
import {
  canonicalStage,
  validateAlias,
  validateDescription,
  validateModelName,
  validateTag,
  validateTagKey,
  validateTags,
} from './registry-validation.ts';

type TagInput = { key?: string | undefined; value?: string | undefined };

export interface RegisteredModelOperations {
  createRegisteredModel(caller: Caller, input: { name?: string | undefined; description?: string | undefined; tags?: TagInput[] | undefined }): RegisteredModel;
  getRegisteredModel(caller: Caller, name: string | undefined): RegisteredModel;
  renameRegisteredModel(caller: Caller, input: { name?: string | undefined; newName?: string | undefined }): RegisteredModel;
  updateRegisteredModel(caller: Caller, input: { name?: string | undefined; description?: string | undefined }): RegisteredModel;
  deleteRegisteredModel(caller: Caller, name: string | undefined): void;
  searchRegisteredModels(caller: Caller, input: SearchInput): { models: RegisteredModel[]; nextPageToken?: string };
  setRegisteredModelTag(caller: Caller, input: { name?: string | undefined } & TagInput): void;
  deleteRegisteredModelTag(caller: Caller, input: { name?: string | undefined; key?: string | undefined }): void;
  setAlias(caller: Caller, input: { name?: string | undefined; alias?: string | undefined; version?: string | undefined }): void;
  deleteAlias(caller: Caller, input: { name?: string | undefined; alias?: string | undefined }): void;
  getVersionByAlias(caller: Caller, input: { name?: string | undefined; alias?: string | undefined }): ModelVersion;
  /** The latest version in each of `stages` (every stage when none are named). */
  getLatestVersions(caller: Caller, input: { name?: string | undefined; stages?: string[] | undefined }): ModelVersion[];
}

export function registeredModelOperations({ db, now, audit }: RegistryDeps, access: RegistryAccess): RegisteredModelOperations {
  const atomically = <T>(work: () => T): T => db.$client.transaction(work)();
  const auditAs = (caller: Caller, action: string, target: string, detail: Record<string, unknown>) =>
    audit.record({ actor: caller.user.username, ip: caller.ip, action, target, detail });
  const refuseTaken = (name: string) => {
    if (findRegisteredModel(db, name)) throw resourceAlreadyExists(`Registered Model (name=${name}) already exists.`);
  };

  return {
    createRegisteredModel(caller, input) {
      const name = validateModelName(input.name);
      const tags = validateTags(input.tags);
      const description = validateDescription(input.description);
      const project = access.projectForNewModel(caller.user, tags);
      refuseTaken(name);
      const at = now();
      const record = insertRegisteredModel(db, { projectId: project.id, name, description, creationTimestamp: at, lastUpdatedTimestamp: at }, tags);
      auditAs(caller, 'model.create', name, { project: project.name });
      return describeModel(db, record);
    },

    getRegisteredModel(caller, name) {
      return describeModel(db, access.model(caller, name, 'viewer').model);
    },

    renameRegisteredModel(caller, input) {
      validateModelName(input.name);
      const newName = validateModelName(input.newName, 'new_name');
      const { model, project } = access.model(caller, input.name, 'editor');
      if (newName !== model.name) refuseTaken(newName);
      const at = now();
      atomically(() => {
        updateRegisteredModel(db, model.id, { name: newName, lastUpdatedTimestamp: at });
        touchVersionsOf(db, model.id, at);
      });
      auditAs(caller, 'model.rename', model.name, { project: project.name, newName });
      return describeModel(db, { ...model, name: newName, lastUpdatedTimestamp: at });
    },

    updateRegisteredModel(caller, input) {
      const description = validateDescription(input.description);
      const { model } = access.model(caller, input.name, 'editor');
      const at = now();
      updateRegisteredModel(db, model.id, { description, lastUpdatedTimestamp: at });
      return describeModel(db, { ...model, description, lastUpdatedTimestamp: at });
    },

    deleteRegisteredModel(caller, name) {
      const { model, project } = access.model(caller, name, 'editor');
      deleteRegisteredModel(db, model.id);
      auditAs(caller, 'model.delete', model.name, { project: project.name });
    },

    searchRegisteredModels(caller, input) {
      const spec = parseModelSearch(input);
      const rows = searchRegisteredModels(db, access.visibleProjectIds(caller.user), spec);
      const models = describeModels(db, rows.slice(0, spec.maxResults));
      const next = nextPageToken(rows.length, spec.offset, spec.maxResults);
      return next ? { models, nextPageToken: next } : { models };
    },

    setRegisteredModelTag(caller, input) {
      validateModelName(input.name);
      const tag = validateTag(input);
      upsertModelTag(db, access.model(caller, input.name, 'editor').model.id, tag);
    },

    deleteRegisteredModelTag(caller, input) {
      validateModelName(input.name);
      const key = validateTagKey(input.key);
      deleteModelTag(db, access.model(caller, input.name, 'editor').model.id, key);
    },

    setAlias(caller, input) {
      validateModelName(input.name);
      const alias = validateAlias(input.alias);
      const { model, project, version } = access.version(caller, input.name, input.version, 'editor');
      upsertAlias(db, model.id, alias, version.version);
      auditAs(caller, 'model.alias.set', `${model.name}@${alias}`, { project: project.name, version: version.version });
    },

    deleteAlias(caller, input) {
      validateModelName(input.name);
      const alias = validateAlias(input.alias);
      const { model, project } = access.model(caller, input.name, 'editor');
      deleteAlias(db, model.id, alias);
      auditAs(caller, 'model.alias.delete', `${model.name}@${alias}`, { project: project.name });
    },

    getVersionByAlias(caller, input) {
      validateModelName(input.name);
      const alias = validateAlias(input.alias);
      const { model } = access.model(caller, input.name, 'viewer');
      const number = findAliasVersion(db, model.id, alias);
      const version = number === undefined ? undefined : findModelVersion(db, model.id, number);
      if (!version) throw invalidParameterValue(`Registered model alias ${alias} not found.`);
      return describeVersion(db, model, version);
    },

    getLatestVersions(caller, input) {
      const stages = new Set((input.stages ?? []).map(canonicalStage));
      const { model } = access.model(caller, input.name, 'viewer');
      return describeModel(db, model).latestVersions.filter(({ currentStage }) => stages.size === 0 || stages.has(currentStage));
    },
  };
}
