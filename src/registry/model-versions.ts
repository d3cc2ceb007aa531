import { invalidParameterValue } from '../lib/errors.ts';
import { nextPageToken } from '../lib/page-token.ts';
import { recordVersionOnLoggedModel } from './logged-model-link.ts';
import { resolveSource, type SourceContext, type VersionReference } from './model-source.ts';
import {
  archiveStage,
  deleteVersionTag,
  findModelVersion,
  insertModelVersion,
  listLiveVersions,
  nextVersionNumber,
  redactModelVersion,
  searchModelVersions,
  updateModelVersion,
  upsertVersionTag,
} from './model-version-queries.ts';
import { deleteAliasesOfVersion, findAliasVersion, updateRegisteredModel } from './registered-model-queries.ts';
import { versionNotFound, type Caller, type RegistryAccess, type RegistryDeps } from './registry-access.ts';
import { describeVersion, describeVersions, type ModelVersion } from './registry-records.ts';
import { parseVersionSearch, type SearchInput } from './registry-search.ts';
import {
  ACTIVE_STAGES,
  canonicalStage,
  requireText,
  validateAlias,
  validateDescription,
  validateModelName,
  validateTag,
  validateTagKey,
  validateTags,
} from './registry-validation.ts';

type VersionInput = { name?: string | undefined; version?: string | undefined };

export interface ModelVersionOperations {
  createModelVersion(
    caller: Caller,
    input: {
      name?: string | undefined;
      source?: string | undefined;
      runId?: string | undefined;
      runLink?: string | undefined;
      description?: string | undefined;
      modelId?: string | undefined;
      tags?: Array<{ key?: string | undefined; value?: string | undefined }> | undefined;
    },
  ): ModelVersion;
  getModelVersion(caller: Caller, input: VersionInput): ModelVersion;
  updateModelVersion(caller: Caller, input: VersionInput & { description?: string | undefined }): ModelVersion;
  deleteModelVersion(caller: Caller, input: VersionInput): void;
  searchModelVersions(caller: Caller, input: SearchInput): { versions: ModelVersion[]; nextPageToken?: string };
  setModelVersionTag(caller: Caller, input: VersionInput & { key?: string | undefined; value?: string | undefined }): void;
  deleteModelVersionTag(caller: Caller, input: VersionInput & { key?: string | undefined }): void;
  /** Where the version's files are, for `get-download-uri`. */
  getDownloadUri(caller: Caller, input: VersionInput): string;
  transitionStage(caller: Caller, input: VersionInput & { stage?: string | undefined; archiveExistingVersions?: boolean | undefined }): ModelVersion;
}

export function modelVersionOperations({ db, now }: RegistryDeps, access: RegistryAccess): ModelVersionOperations {
  const atomically = <T>(work: () => T): T => db.$client.transaction(work)();

  /** The files of the version a `models:/` source names, read with the caller's rights. */
  const storageOf = (caller: Caller, reference: VersionReference): string => {
    if ('version' in reference) return access.version(caller, reference.name, reference.version, 'viewer').version.storageLocation;
    const { model } = access.model(caller, reference.name, 'viewer');
    const live = listLiveVersions(db, [model.id]);
    if ('alias' in reference) {
      const number = findAliasVersion(db, model.id, validateAlias(reference.alias));
      const found = live.find(({ version }) => version === number);
      if (!found) throw invalidParameterValue(`Registered model alias ${reference.alias} not found.`);
      return found.storageLocation;
    }
    const stage = 'stage' in reference ? canonicalStage(reference.stage) : undefined;
    const found = stage ? live.findLast(({ currentStage }) => currentStage === stage) : live.at(-1);
    if (!found) throw versionNotFound(model.name, stage ?? 'latest');
    return found.storageLocation;
  };
  const sources: SourceContext = { db, canSee: access.canSee, storageOf };

  return {
    createModelVersion(caller, input) {
      validateModelName(input.name);
      requireText(input.source, 'source');
      const tags = validateTags(input.tags);
      const description = validateDescription(input.description);
      const { model } = access.model(caller, input.name, 'editor');
      const resolved = resolveSource(sources, caller, input);
      const at = now();
      const record = atomically(() => {
        const version = insertModelVersion(
          db,
          {
            modelId: model.id,
            version: nextVersionNumber(db, model.id),
            description,
            userId: caller.user.username,
            source: resolved.source,
            runId: resolved.runId,
            runLink: input.runLink ?? '',
            storageLocation: resolved.storageLocation,
            loggedModelId: resolved.loggedModelId,
            creationTimestamp: at,
            lastUpdatedTimestamp: at,
          },
          tags,
        );
        updateRegisteredModel(db, model.id, { lastUpdatedTimestamp: at });
        if (resolved.loggedModelId) recordVersionOnLoggedModel(db, resolved.loggedModelId, model.name, version.version);
        return version;
      });
      return describeVersion(db, model, record);
    },

    getModelVersion(caller, input) {
      const { model, version } = access.version(caller, input.name, input.version, 'viewer');
      return describeVersion(db, model, version);
    },

    updateModelVersion(caller, input) {
      const description = validateDescription(input.description);
      const { model, version } = access.version(caller, input.name, input.version, 'editor');
      const at = now();
      updateModelVersion(db, model.id, version.version, { description, lastUpdatedTimestamp: at });
      return describeVersion(db, model, { ...version, description, lastUpdatedTimestamp: at });
    },

    deleteModelVersion(caller, input) {
      const { model, version } = access.version(caller, input.name, input.version, 'editor');
      const at = now();
      atomically(() => {
        deleteAliasesOfVersion(db, model.id, version.version);
        redactModelVersion(db, model.id, version.version, at);
        updateRegisteredModel(db, model.id, { lastUpdatedTimestamp: at });
      });
    },

    searchModelVersions(caller, input) {
      const spec = parseVersionSearch(input);
      const rows = searchModelVersions(db, access.visibleProjectIds(caller.user), spec);
      const versions = describeVersions(db, rows.slice(0, spec.maxResults));
      const next = nextPageToken(rows.length, spec.offset, spec.maxResults);
      return next ? { versions, nextPageToken: next } : { versions };
    },

    setModelVersionTag(caller, input) {
      const tag = validateTag(input);
      const { model, version } = access.version(caller, input.name, input.version, 'editor');
      upsertVersionTag(db, model.id, version.version, tag);
    },

    deleteModelVersionTag(caller, input) {
      const key = validateTagKey(input.key);
      const { model, version } = access.version(caller, input.name, input.version, 'editor');
      deleteVersionTag(db, model.id, version.version, key);
    },

    getDownloadUri(caller, input) {
      const { version } = access.version(caller, input.name, input.version, 'viewer');
      return version.storageLocation || version.source;
    },

    transitionStage(caller, input) {
      const stage = canonicalStage(requireText(input.stage, 'stage'));
      if (input.archiveExistingVersions && !ACTIVE_STAGES.includes(stage)) {
        throw invalidParameterValue(
          `Model version transition cannot archive existing model versions because '${input.stage}' is not an Active stage. Valid stages are ${ACTIVE_STAGES.join(', ')}`,
        );
      }
      const { model, version } = access.version(caller, input.name, input.version, 'editor');
      const at = now();
      atomically(() => {
        if (input.archiveExistingVersions) archiveStage(db, model.id, version.version, stage, at);
        updateModelVersion(db, model.id, version.version, { currentStage: stage, lastUpdatedTimestamp: at });
        updateRegisteredModel(db, model.id, { lastUpdatedTimestamp: at });
      });
      return describeVersion(db, model, findModelVersion(db, model.id, version.version)!);
    },
  };
}
