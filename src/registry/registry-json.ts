import type { ModelVersion, RegisteredModel } from './registry-records.ts';

/**
 * The JSON MLflow's server writes for registry entities (model_registry.proto through its entities'
 * to_proto): empty lists and unset fields are left out; a version's description, run_id and run_link are
 * always there; a version lists its aliases only where MLflow fills them in (get, update, by alias,
 * latest versions), not inside a registered model or a search result.
 */
export function modelVersionJson(version: ModelVersion, options: { aliases: boolean }) {
  return {
    name: version.name,
    version: String(version.version),
    creation_timestamp: version.creationTimestamp,
    last_updated_timestamp: version.lastUpdatedTimestamp,
    current_stage: version.currentStage,
    description: version.description,
    source: version.source,
    run_id: version.runId,
    status: version.status,
    ...(version.statusMessage && { status_message: version.statusMessage }),
    ...(version.tags.length > 0 && { tags: version.tags }),
    run_link: version.runLink,
    ...(options.aliases && version.aliases.length > 0 && { aliases: version.aliases }),
  };
}

export function registeredModelJson(model: RegisteredModel) {
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    ...(model.description && { description: model.description }),
    ...(model.latestVersions.length > 0 && {
      latest_versions: model.latestVersions.map((version) => modelVersionJson(version, { aliases: false })),
    }),
    ...(model.tags.length > 0 && { tags: model.tags }),
    ...(model.aliases.length > 0 && { aliases: model.aliases.map(({ alias, version }) => ({ alias, version: String(version) })) }),
  };
}
