import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER } from '../helpers/test-app.ts';
import { OUTSIDER, VIEWER, hiddenRunId, runId, useRegistryWorld } from './registry-world.ts';

const world = useRegistryWorld();
const { ok, modelWithVersions } = world;

const versionsOfRun = (username: string, run: string) => {
  const { versions, truncated } = world.t.app.registry.versionsOfRun({ user: world.t.app.users.get(username) }, run);
  return { truncated, versions: versions.map(({ name, version, currentStage, aliases }) => ({ name, version, currentStage, aliases })) };
};

describe('versions of a run', () => {
  beforeAll(async () => {
    await modelWithVersions('zeta-model', 2);
    await modelWithVersions('alpha-model', 3);
    await ok('DELETE', '/model-versions/delete', { name: 'alpha-model', version: '2' });
    await ok('POST', '/model-versions/transition-stage', { name: 'alpha-model', version: '3', stage: 'Production', archive_existing_versions: false });
    await ok('POST', '/registered-models/alias', { name: 'alpha-model', alias: 'champion', version: '3' });
    await ok('POST', '/registered-models/create', { name: 'elsewhere', tags: [{ key: 'trainyard.project', value: 'secret' }] }, OUTSIDER);
    await ok('POST', '/model-versions/create', { name: 'elsewhere', source: `runs:/${hiddenRunId}/m`, run_id: hiddenRunId }, OUTSIDER);
    await ok('POST', '/registered-models/create', { name: 'other-run' });
    await ok('POST', '/model-versions/create', { name: 'other-run', source: 'mlflow-artifacts:/1/elsewhere' });
  });

  it('lists the live versions registered from the run, by model name and newest version first, with stage and aliases', () => {
    expect(versionsOfRun(VIEWER.username, runId)).toEqual({
      truncated: false,
      versions: [
        { name: 'alpha-model', version: 3, currentStage: 'Production', aliases: ['champion'] },
        { name: 'alpha-model', version: 1, currentStage: 'None', aliases: [] },
        { name: 'zeta-model', version: 2, currentStage: 'None', aliases: [] },
        { name: 'zeta-model', version: 1, currentStage: 'None', aliases: [] },
      ],
    });
  });

  it('leaves out versions in projects the caller cannot see', () => {
    expect(versionsOfRun(MEMBER.username, hiddenRunId).versions).toEqual([]);
    expect(versionsOfRun(OUTSIDER.username, hiddenRunId).versions).toEqual([{ name: 'elsewhere', version: 1, currentStage: 'None', aliases: [] }]);
    expect(versionsOfRun(ADMIN.username, hiddenRunId).versions).toHaveLength(1);
    expect(versionsOfRun(OUTSIDER.username, runId).versions).toEqual([]);
  });

  it('finds nothing for an unknown run, or for text that is not a run id', () => {
    for (const text of ['f'.repeat(32), '', "' or 1=1 --", 'REDACTED-RUN-ID']) expect(versionsOfRun(ADMIN.username, text).versions, text).toEqual([]);
  });
});
