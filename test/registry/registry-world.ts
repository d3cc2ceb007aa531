import { beforeAll, expect } from 'vitest';
import { requestInit } from '../helpers/scenarios.ts';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * A registry to test over HTTP: an admin, a member (editor in default), a viewer in default, an outsider
 * who is editor only in project "secret", and tracking rows for the registry to read (a run and a logged
 * model in default, a run in secret).
 */
export const API = '/api/2.0/mlflow';
export const VIEWER = { username: 'vic', password: 'viewer-password-1' };
export const OUTSIDER = { username: 'otto', password: 'outsider-password-1' };
export type User = { username: string; password: string };

export const runId = 'a'.repeat(32);
export const runArtifacts = `mlflow-artifacts:/1/${runId}/artifacts`;
export const hiddenRunId = 'b'.repeat(32);
export const loggedModelId = `m-${'c'.repeat(32)}`;

export const q = (params: Record<string, string | number>) =>
  `?${new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)]))}`;

export const basicAdmin = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

/** Tracking fixtures as rows: the registry only reads runs and logged models. */
function seedTracking(t: TestApp): void {
  const db = t.app.db.$client;
  const experiment = db.prepare(
    'insert into experiments (id, project_id, name, artifact_location, creation_time, last_update_time) values (?, ?, ?, ?, 0, 0)',
  );
  experiment.run(1, t.app.projects.ensureDefault().id, 'exp', 'mlflow-artifacts:/1');
  experiment.run(2, t.app.projects.get('secret').id, 'hidden-exp', 'mlflow-artifacts:/2');
  const run = db.prepare("insert into runs (run_uuid, experiment_id, status, artifact_uri) values (?, ?, 'RUNNING', ?)");
  run.run(runId, 1, runArtifacts);
  run.run(hiddenRunId, 2, `mlflow-artifacts:/2/${hiddenRunId}/artifacts`);
  db.prepare(
    `insert into logged_models (model_id, experiment_id, name, artifact_uri, status, source_run_id, creation_timestamp_ms, last_updated_timestamp_ms)
     values (?, 1, 'model', ?, 'LOGGED_MODEL_READY', ?, 0, 0)`,
  ).run(loggedModelId, `mlflow-artifacts:/1/models/${loggedModelId}/artifacts`, runId);
}

export interface RegistryWorld {
  readonly t: TestApp;
  call(method: string, path: string, body?: unknown, user?: User): Promise<{ status: number; json: Record<string, any> }>;
  /** The JSON of a 200 answer; anything else fails the test. */
  ok(method: string, path: string, body?: unknown, user?: User): Promise<Record<string, any>>;
  /** A fresh model with `count` versions from the run, each under its own path. */
  modelWithVersions(name: string, count: number, user?: User): Promise<void>;
  versionNumbers(name: string): Promise<string[]>;
}

export function useRegistryWorld(): RegistryWorld {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await createTestApp();
    const by = { actor: 'test' };
    await t.app.users.create({ ...VIEWER, displayName: 'Vic Viewer' }, by);
    await t.app.users.create({ ...OUTSIDER, displayName: 'Otto Outsider' }, by);
    const defaultProject = t.app.projects.ensureDefault();
    t.app.projects.setMember(defaultProject, VIEWER.username, 'viewer', by);
    t.app.projects.removeMember(defaultProject, OUTSIDER.username, by);
    t.app.projects.setMember(t.app.projects.create({ name: 'secret' }, by), OUTSIDER.username, 'editor', by);
    seedTracking(t);
  });

  const world: RegistryWorld = {
    get t() {
      if (!t) throw new Error('the registry world is built in beforeAll');
      return t;
    },
    async call(method, path, body, user = ADMIN) {
      const response = await world.t.request(`${API}${path}`, requestInit({ method, headers: { Authorization: world.t.basic(user) }, body }));
      return { status: response.status, json: (await response.json()) as Record<string, any> };
    },
    async ok(method, path, body, user = ADMIN) {
      const { status, json } = await world.call(method, path, body, user);
      expect(status, JSON.stringify(json)).toBe(200);
      return json;
    },
    async modelWithVersions(name, count, user = ADMIN) {
      await world.ok('POST', '/registered-models/create', { name }, user);
      for (let index = 1; index <= count; index++) {
        await world.ok('POST', '/model-versions/create', { name, source: `runs:/${runId}/v${index}`, run_id: runId }, user);
      }
    },
    async versionNumbers(name) {
      const { model_versions } = await world.ok('GET', `/model-versions/search${q({ filter: `name='${name}'`, order_by: 'version_number ASC' })}`);
      return (model_versions ?? []).map((version: { version: string }) => version.version);
    },
  };
  return world;
}
