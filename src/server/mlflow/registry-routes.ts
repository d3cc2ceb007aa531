import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { ModelVersion, RegisteredModel } from '../../registry/registry.ts';
import { modelVersionJson, registeredModelJson } from '../../registry/registry-json.ts';
import { entry, entryText, integer, invalidValue, list, text, texts, type Message } from '../../tracking/message-fields.ts';
import type { AppEnv } from '../context.ts';
import { mlflowHandler } from './mlflow-message.ts';

const name = (message: Message) => text(message, 'name');
const versioned = (message: Message) => ({ name: name(message), version: text(message, 'version') });

function tagsOf(message: Message) {
  return list(message, 'tags').map((raw, index) => {
    const item = entry(raw, `tags[${index}]`);
    return { key: entryText(item, 'key', `tags[${index}]`), value: entryText(item, 'value', `tags[${index}]`) };
  });
}

function flag(message: Message, field: string): boolean | undefined {
  const value = message[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidValue(field, value);
  return value;
}

function searchOf(message: Message) {
  return {
    filter: text(message, 'filter'),
    maxResults: integer(message, 'max_results'),
    orderBy: texts(message, 'order_by'),
    pageToken: text(message, 'page_token'),
  };
}

const modelAnswer = (model: RegisteredModel) => ({ registered_model: registeredModelJson(model) });
const versionAnswer = (version: ModelVersion) => ({ model_version: modelVersionJson(version, { aliases: true }) });
const versionsAnswer = (versions: ModelVersion[]) =>
  versions.length > 0 ? { model_versions: versions.map((version) => modelVersionJson(version, { aliases: true })) } : {};

/** model_registry.proto: registered models, their versions, tags, aliases and stages, in MLflow's JSON shapes. */
export function registryRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  const registry = app.registry;
  /** Runs a write for its effect: MLflow answers these with an empty object. */
  const done = (_write: void) => ({});

  routes.post(
    '/registered-models/create',
    mlflowHandler((caller, message) =>
      modelAnswer(registry.createRegisteredModel(caller, { name: name(message), description: text(message, 'description'), tags: tagsOf(message) })),
    ),
  );
  routes.get('/registered-models/get', mlflowHandler((caller, message) => modelAnswer(registry.getRegisteredModel(caller, name(message)))));
  routes.post(
    '/registered-models/rename',
    mlflowHandler((caller, message) =>
      modelAnswer(registry.renameRegisteredModel(caller, { name: name(message), newName: text(message, 'new_name') })),
    ),
  );
  routes.patch(
    '/registered-models/update',
    mlflowHandler((caller, message) =>
      modelAnswer(registry.updateRegisteredModel(caller, { name: name(message), description: text(message, 'description') })),
    ),
  );
  routes.delete('/registered-models/delete', mlflowHandler((caller, message) => done(registry.deleteRegisteredModel(caller, name(message)))));
  routes.get(
    '/registered-models/search',
    mlflowHandler((caller, message) => {
      const { models, nextPageToken } = registry.searchRegisteredModels(caller, searchOf(message));
      return {
        ...(models.length > 0 && { registered_models: models.map(registeredModelJson) }),
        ...(nextPageToken && { next_page_token: nextPageToken }),
      };
    }),
  );
  routes.post(
    '/registered-models/set-tag',
    mlflowHandler((caller, message) =>
      done(registry.setRegisteredModelTag(caller, { name: name(message), key: text(message, 'key'), value: text(message, 'value') })),
    ),
  );
  routes.delete(
    '/registered-models/delete-tag',
    mlflowHandler((caller, message) => done(registry.deleteRegisteredModelTag(caller, { name: name(message), key: text(message, 'key') }))),
  );
  routes.post(
    '/registered-models/alias',
    mlflowHandler((caller, message) =>
      done(registry.setAlias(caller, { name: name(message), alias: text(message, 'alias'), version: text(message, 'version') })),
    ),
  );
  routes.get(
    '/registered-models/alias',
    mlflowHandler((caller, message) => versionAnswer(registry.getVersionByAlias(caller, { name: name(message), alias: text(message, 'alias') }))),
  );
  routes.delete(
    '/registered-models/alias',
    mlflowHandler((caller, message) => done(registry.deleteAlias(caller, { name: name(message), alias: text(message, 'alias') }))),
  );
  const latestVersions = mlflowHandler((caller, message) =>
    versionsAnswer(registry.getLatestVersions(caller, { name: name(message), stages: texts(message, 'stages') })),
  );
  routes.get('/registered-models/get-latest-versions', latestVersions);
  routes.post('/registered-models/get-latest-versions', latestVersions);

  routes.post(
    '/model-versions/create',
    mlflowHandler((caller, message) =>
      versionAnswer(
        registry.createModelVersion(caller, {
          name: name(message),
          source: text(message, 'source'),
          runId: text(message, 'run_id'),
          runLink: text(message, 'run_link'),
          description: text(message, 'description'),
          modelId: text(message, 'model_id'),
          tags: tagsOf(message),
        }),
      ),
    ),
  );
  routes.get('/model-versions/get', mlflowHandler((caller, message) => versionAnswer(registry.getModelVersion(caller, versioned(message)))));
  routes.patch(
    '/model-versions/update',
    mlflowHandler((caller, message) =>
      versionAnswer(registry.updateModelVersion(caller, { ...versioned(message), description: text(message, 'description') })),
    ),
  );
  routes.delete('/model-versions/delete', mlflowHandler((caller, message) => done(registry.deleteModelVersion(caller, versioned(message)))));
  routes.get(
    '/model-versions/search',
    mlflowHandler((caller, message) => {
      const { versions, nextPageToken } = registry.searchModelVersions(caller, searchOf(message));
      return {
        ...(versions.length > 0 && { model_versions: versions.map((version) => modelVersionJson(version, { aliases: false })) }),
        ...(nextPageToken && { next_page_token: nextPageToken }),
      };
    }),
  );
  routes.post(
    '/model-versions/set-tag',
    mlflowHandler((caller, message) =>
      done(registry.setModelVersionTag(caller, { ...versioned(message), key: text(message, 'key'), value: text(message, 'value') })),
    ),
  );
  routes.delete(
    '/model-versions/delete-tag',
    mlflowHandler((caller, message) => done(registry.deleteModelVersionTag(caller, { ...versioned(message), key: text(message, 'key') }))),
  );
  routes.get(
    '/model-versions/get-download-uri',
    mlflowHandler((caller, message) => ({ artifact_uri: registry.getDownloadUri(caller, versioned(message)) })),
  );
  routes.post(
    '/model-versions/transition-stage',
    mlflowHandler((caller, message) =>
      versionAnswer(
        registry.transitionStage(caller, {
          ...versioned(message),
          stage: text(message, 'stage'),
          archiveExistingVersions: flag(message, 'archive_existing_versions'),
        }),
      ),
    ),
  );
  return routes;
}
