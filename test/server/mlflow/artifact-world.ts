import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runs } from '../../../src/db/schema/tracking.ts';
import { insertExperiment } from '../../../src/tracking/experiment-queries.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../../helpers/test-app.ts';

/** Experiments in three projects: the default one (mia edits), `secret` (mia has no role), `shared` (mia views). */
export const MINE = 11;
export const SECRET = 12;
export const SHARED = 13;
export const RUN = 'a'.repeat(32);
export const RUN_ROOT = `${MINE}/${RUN}/artifacts`;
export const API = '/api/2.0/mlflow-artifacts/artifacts';

export interface ArtifactWorld {
  t: TestApp;
  /** A folder outside the store that planted links point into. */
  outside: string;
  admin(): Record<string, string>;
  member(): Record<string, string>;
  storeFile(path: string): string;
  put(path: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<Response>;
}

/**
 * A test app with the three experiments, a run of MINE, a file in SECRET and in SHARED, and two links planted in the
 * run's folder: `escape` (a folder outside the store) and `link.txt` (a file outside it).
 */
export async function createArtifactWorld(overrides: Parameters<typeof createTestApp>[0] = {}): Promise<ArtifactWorld> {
  const t = await createTestApp({ maxBodyBytes: 4096, ...overrides });
  const outside = mkdtempSync(join(tmpdir(), 'trainyard-outside-'));
  afterAll(() => rmSync(outside, { recursive: true, force: true }));
  const by = { actor: 'test' };
  const projects = { [MINE]: t.app.projects.ensureDefault(), [SECRET]: t.app.projects.create({ name: 'secret' }, by), [SHARED]: t.app.projects.create({ name: 'shared' }, by) };
  t.app.projects.setMember(projects[SHARED], MEMBER.username, 'viewer', by);
  for (const [id, project] of Object.entries(projects)) {
    insertExperiment(t.app.db, { id: Number(id), projectId: project.id, name: `exp-${id}`, artifactLocation: `mlflow-artifacts:/${id}`, creationTime: 1, lastUpdateTime: 1 });
  }
  t.app.db.insert(runs).values({ runUuid: RUN, experimentId: MINE, status: 'RUNNING', startTime: 1, artifactUri: `mlflow-artifacts:/${RUN_ROOT}` }).run();

  const storeFile = (path: string) => join(t.app.artifacts.root, path);
  writeFileSync(join(outside, 'secret.txt'), 'outside the store');
  mkdirSync(storeFile(RUN_ROOT), { recursive: true });
  symlinkSync(outside, storeFile(`${RUN_ROOT}/escape`));
  symlinkSync(join(outside, 'secret.txt'), storeFile(`${RUN_ROOT}/link.txt`));
  mkdirSync(storeFile(`${SECRET}/r`), { recursive: true });
  writeFileSync(storeFile(`${SECRET}/r/hidden.txt`), 'hidden');
  mkdirSync(storeFile(`${SHARED}/r`), { recursive: true });
  writeFileSync(storeFile(`${SHARED}/r/shared.txt`), 'shared');

  const admin = () => ({ Authorization: t.basic(ADMIN) });
  return {
    t,
    outside,
    admin,
    member: () => ({ Authorization: t.basic(MEMBER) }),
    storeFile,
    put: (path, body, headers = admin()) =>
      t.request(`${API}/${path}`, { method: 'PUT', headers: { ...headers, 'Content-Type': 'application/octet-stream' }, body }),
  };
}
