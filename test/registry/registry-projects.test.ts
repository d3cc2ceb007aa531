import { beforeAll, describe, expect, it } from 'vitest';
import { MEMBER } from '../helpers/test-app.ts';
import { OUTSIDER, VIEWER, hiddenRunId, q, useRegistryWorld } from './registry-world.ts';

const world = useRegistryWorld();
const { call, ok, modelWithVersions, versionNumbers } = world;

describe('projects and roles', () => {
  beforeAll(async () => {
    await modelWithVersions('shared', 1);
    await ok('POST', '/registered-models/create', { name: 'hidden', tags: [{ key: 'trainyard.project', value: 'secret' }] }, OUTSIDER);
    await ok('POST', '/model-versions/create', { name: 'hidden', source: `runs:/${hiddenRunId}/m`, run_id: hiddenRunId }, OUTSIDER);
  });

  it('puts a model into the project its trainyard.project tag names, else into default', () => {
    const projectOf = (name: string) =>
      (world.t.app.db.$client.prepare('select p.name from registered_models m join projects p on p.id = m.project_id where m.name = ?').get(name) as { name: string }).name;
    expect([projectOf('shared'), projectOf('hidden')]).toEqual(['default', 'secret']);
  });

  it('lets a viewer read and refuses their writes with 403', async () => {
    expect((await ok('GET', `/registered-models/get${q({ name: 'shared' })}`, undefined, VIEWER)).registered_model.name).toBe('shared');
    expect((await ok('GET', `/model-versions/get${q({ name: 'shared', version: '1' })}`, undefined, VIEWER)).model_version.version).toBe('1');
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/registered-models/create', { name: 'by-viewer' }],
      ['POST', '/registered-models/rename', { name: 'shared', new_name: 'taken-over' }],
      ['PATCH', '/registered-models/update', { name: 'shared', description: 'x' }],
      ['DELETE', '/registered-models/delete', { name: 'shared' }],
      ['POST', '/registered-models/set-tag', { name: 'shared', key: 'k', value: 'v' }],
      ['DELETE', '/registered-models/delete-tag', { name: 'shared', key: 'k' }],
      ['POST', '/registered-models/alias', { name: 'shared', alias: 'a', version: '1' }],
      ['DELETE', '/registered-models/alias', { name: 'shared', alias: 'a' }],
      ['POST', '/model-versions/create', { name: 'shared', source: 'mlflow-artifacts:/1/x' }],
      ['PATCH', '/model-versions/update', { name: 'shared', version: '1', description: 'x' }],
      ['DELETE', '/model-versions/delete', { name: 'shared', version: '1' }],
      ['POST', '/model-versions/set-tag', { name: 'shared', version: '1', key: 'k', value: 'v' }],
      ['DELETE', '/model-versions/delete-tag', { name: 'shared', version: '1', key: 'k' }],
      ['POST', '/model-versions/transition-stage', { name: 'shared', version: '1', stage: 'Staging', archive_existing_versions: false }],
    ];
    for (const [method, path, body] of writes) {
      const { status, json } = await call(method, path, body, VIEWER);
      expect([path, status, json.error_code]).toEqual([path, 403, 'PERMISSION_DENIED']);
    }
    expect((await ok('GET', `/registered-models/get${q({ name: 'shared' })}`)).registered_model).not.toHaveProperty('description');
  });

  it('answers 404 for a model in a project the caller cannot see, and leaves it out of searches', async () => {
    const notFound = { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=hidden not found' };
    expect(await call('GET', `/registered-models/get${q({ name: 'hidden' })}`, undefined, MEMBER)).toEqual({ status: 404, json: notFound });
    expect(await call('GET', `/model-versions/get${q({ name: 'hidden', version: '1' })}`, undefined, MEMBER)).toEqual({ status: 404, json: notFound });
    expect(await call('DELETE', '/registered-models/delete', { name: 'hidden' }, MEMBER)).toEqual({ status: 404, json: notFound });
    expect((await ok('GET', `/registered-models/search${q({ filter: "name = 'hidden'" })}`, undefined, MEMBER))).toEqual({});
    expect((await ok('GET', `/model-versions/search${q({ filter: "name = 'hidden'" })}`, undefined, MEMBER))).toEqual({});
    expect((await ok('GET', `/registered-models/search${q({ filter: "name = 'hidden'" })}`)).registered_models).toHaveLength(1);
    const outsiderSees = await ok('GET', `/registered-models/search${q({ filter: "name LIKE '%'" })}`, undefined, OUTSIDER);
    expect(outsiderSees.registered_models.map((m: any) => m.name)).toEqual(['hidden']);
  });

  it('does not let a source reach into a run, logged model or version the caller cannot see', async () => {
    await ok('POST', '/registered-models/create', { name: 'reacher' }, MEMBER);
    for (const source of [`runs:/${hiddenRunId}/m`, 'models:/hidden/1']) {
      const { status, json } = await call('POST', '/model-versions/create', { name: 'reacher', source }, MEMBER);
      expect([source, status, json.error_code]).toEqual([source, 404, 'RESOURCE_DOES_NOT_EXIST']);
    }
    expect(await versionNumbers('reacher')).toEqual([]);
  });

  it('refuses a project that does not exist or that the caller may not write to', async () => {
    const unknown = await call('POST', '/registered-models/create', { name: 'lost', tags: [{ key: 'trainyard.project', value: 'nowhere' }] });
    expect(unknown).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const elsewhere = await call('POST', '/registered-models/create', { name: 'lost', tags: [{ key: 'trainyard.project', value: 'secret' }] }, MEMBER);
    expect(elsewhere).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect((await call('GET', `/registered-models/get${q({ name: 'lost' })}`)).status).toBe(404);
  });

  it('writes model and alias changes to the audit log', async () => {
    await ok('POST', '/registered-models/create', { name: 'audited' }, MEMBER);
    await ok('POST', '/model-versions/create', { name: 'audited', source: 'mlflow-artifacts:/1/x' }, MEMBER);
    await ok('POST', '/registered-models/alias', { name: 'audited', alias: 'live', version: '1' }, MEMBER);
    await ok('DELETE', '/registered-models/alias', { name: 'audited', alias: 'live' }, MEMBER);
    await ok('POST', '/registered-models/rename', { name: 'audited', new_name: 'audited-2' }, MEMBER);
    await ok('DELETE', '/registered-models/delete', { name: 'audited-2' }, MEMBER);
    const events = world.t.app.audit
      .list({ limit: 20 })
      .filter((event) => event.action.startsWith('model.') && event.target?.startsWith('audited'))
      .reverse()
      .map(({ action, target, detail }) => ({ action, target, detail }));
    expect(events).toEqual([
      { action: 'model.create', target: 'audited', detail: { project: 'default' } },
      { action: 'model.alias.set', target: 'audited@live', detail: { project: 'default', version: 1 } },
      { action: 'model.alias.delete', target: 'audited@live', detail: { project: 'default' } },
      { action: 'model.rename', target: 'audited', detail: { project: 'default', newName: 'audited-2' } },
      { action: 'model.delete', target: 'audited-2', detail: { project: 'default' } },
    ]);
  });
});

