import type { Db } from '../db/connection.ts';
import { listLiveVersions, listVersionTags, versionKey, type ModelVersionRecord, type NamedVersionRecord } from './model-version-queries.ts';
import { listAliases, listModelTags, type AliasRecord, type RegisteredModelRecord } from './registered-model-queries.ts';
import type { Stage, Tag } from './registry-validation.ts';

export type { AliasRecord };

export interface ModelVersion {
  name: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  currentStage: Stage;
  description: string;
  source: string;
  runId: string;
  runLink: string;
  storageLocation: string;
  loggedModelId: string | null;
  status: ModelVersionRecord['status'];
  statusMessage: string | null;
  tags: Tag[];
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  projectId: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string;
  /** The highest version in each stage, stages in the order their lowest version reached them (as MLflow lists them). */
  latestVersions: ModelVersion[];
  tags: Tag[];
  aliases: AliasRecord[];
}

function latestPerStage(versions: ModelVersionRecord[]): ModelVersionRecord[] {
  const latest = new Map<string, ModelVersionRecord>();
  for (const version of versions) latest.set(version.currentStage, version);
  return [...latest.values()];
}

function toVersion(record: ModelVersionRecord, name: string, tags: Map<string, Tag[]>, aliases: AliasRecord[]): ModelVersion {
  return {
    name,
    version: record.version,
    creationTimestamp: record.creationTimestamp,
    lastUpdatedTimestamp: record.lastUpdatedTimestamp,
    userId: record.userId,
    currentStage: record.currentStage,
    description: record.description,
    source: record.source,
    runId: record.runId,
    runLink: record.runLink,
    storageLocation: record.storageLocation,
    loggedModelId: record.loggedModelId,
    status: record.status,
    statusMessage: record.statusMessage,
    tags: tags.get(versionKey(record.modelId, record.version)) ?? [],
    aliases: aliases.filter(({ version }) => version === record.version).map(({ alias }) => alias),
  };
}

/** Versions with their tags and the aliases that point at them. */
export function describeVersions(db: Db, records: NamedVersionRecord[]): ModelVersion[] {
  const tags = listVersionTags(db, records);
  const aliases = listAliases(db, [...new Set(records.map(({ modelId }) => modelId))]);
  return records.map((record) => toVersion(record, record.name, tags, aliases.get(record.modelId) ?? []));
}

export function describeVersion(db: Db, model: Pick<RegisteredModelRecord, 'name'>, record: ModelVersionRecord): ModelVersion {
  return describeVersions(db, [{ ...record, name: model.name }])[0]!;
}

/** Registered models with their tags, aliases and latest versions, in five queries however many there are. */
export function describeModels(db: Db, records: RegisteredModelRecord[]): RegisteredModel[] {
  const ids = records.map(({ id }) => id);
  const tags = listModelTags(db, ids);
  const aliases = listAliases(db, ids);
  const versionsByModel = new Map<number, ModelVersionRecord[]>();
  for (const version of listLiveVersions(db, ids)) {
    const list = versionsByModel.get(version.modelId);
    if (list) list.push(version);
    else versionsByModel.set(version.modelId, [version]);
  }
  const latest = new Map(records.map(({ id }) => [id, latestPerStage(versionsByModel.get(id) ?? [])]));
  const versionTags = listVersionTags(db, [...latest.values()].flat());
  return records.map((record) => ({
    name: record.name,
    projectId: record.projectId,
    creationTimestamp: record.creationTimestamp,
    lastUpdatedTimestamp: record.lastUpdatedTimestamp,
    description: record.description,
    latestVersions: latest.get(record.id)!.map((version) => toVersion(version, record.name, versionTags, aliases.get(record.id) ?? [])),
    tags: tags.get(record.id) ?? [],
    aliases: aliases.get(record.id) ?? [],
  }));
}

export function describeModel(db: Db, record: RegisteredModelRecord): RegisteredModel {
  return describeModels(db, [record])[0]!;
}
