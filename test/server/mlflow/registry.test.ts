import { describe, expect, it } from 'vitest';
import { ADMIN } from '../../helpers/test-app.ts';
import { loggedModelId, q, runArtifacts, runId, useRegistryWorld } from '../../registry/registry-world.ts';

const world = useRegistryWorld();
const { call, ok, modelWithVersions, versionNumbers } = world;

describe('the flow the mlflow client records', () => {
  it('answers in the recorded shapes, step by step', async () => {
    world.t.clock.advance(1000);
    const created = await ok('POST', '/registered-models/create', { name: 'smoke', tags: [{ key: 'team', value: 'x' }], description: 'smoke' });
    const t0 = world.t.clock.now;
    expect(created).toEqual({
      registered_model: { name: 'smoke', creation_timestamp: t0, last_updated_timestamp: t0, description: 'smoke', tags: [{ key: 'team', value: 'x' }] },
    });

    world.t.clock.advance(1000);
    const t1 = world.t.clock.now;
    const version = await ok('POST', '/model-versions/create', {
      name: 'smoke',
      source: `runs:/${runId}/sub`,
      run_id: runId,
      tags: [{ key: 'v', value: '1' }],
    });
    const v1 = {
      name: 'smoke',
      version: '1',
      creation_timestamp: t1,
      last_updated_timestamp: t1,
      current_stage: 'None',
      description: '',
      source: `runs:/${runId}/sub`,
      run_id: runId,
      status: 'READY',
      tags: [{ key: 'v', value: '1' }],
      run_link: '',
    };
    expect(version).toEqual({ model_version: v1 });

    const model = { name: 'smoke', creation_timestamp: t0, last_updated_timestamp: t1, description: 'smoke', latest_versions: [v1], tags: [{ key: 'team', value: 'x' }] };
    expect(await ok('GET', `/registered-models/get${q({ name: 'smoke' })}`)).toEqual({ registered_model: model });

    world.t.clock.advance(1000);
    expect(await ok('POST', '/registered-models/alias', { name: 'smoke', alias: 'champion', version: '1' })).toEqual({});
    expect(await ok('GET', `/registered-models/alias${q({ name: 'smoke', alias: 'champion' })}`)).toEqual({ model_version: { ...v1, aliases: ['champion'] } });
    const withAlias = { ...model, aliases: [{ alias: 'champion', version: '1' }] };
    expect(await ok('GET', `/registered-models/get${q({ name: 'smoke' })}`)).toEqual({ registered_model: withAlias });

    world.t.clock.advance(1000);
    const t2 = world.t.clock.now;
    const updated = { ...v1, description: 'first', last_updated_timestamp: t2 };
    expect(await ok('PATCH', '/model-versions/update', { name: 'smoke', version: '1', description: 'first' })).toEqual({
      model_version: { ...updated, aliases: ['champion'] },
    });
    expect((await ok('GET', `/registered-models/get${q({ name: 'smoke' })}`)).registered_model).toEqual({ ...withAlias, latest_versions: [updated] });

    expect(await ok('POST', '/model-versions/set-tag', { name: 'smoke', version: '1', key: 'validated', value: 'true' })).toEqual({});
    const tagged = { ...updated, tags: [{ key: 'v', value: '1' }, { key: 'validated', value: 'true' }] };
    expect(await ok('GET', `/model-versions/search${q({ filter: "name='smoke'", max_results: 10000 })}`)).toEqual({ model_versions: [tagged] });
    const filter = "name='smoke' AND tag.`mlflow.prompt.is_prompt` != 'true'";
    expect(await ok('GET', `/registered-models/search${q({ filter, max_results: 100 })}`)).toEqual({
      registered_models: [{ ...withAlias, latest_versions: [tagged] }],
    });
    expect(await ok('POST', '/registered-models/get-latest-versions', { name: 'smoke' })).toEqual({
      model_versions: [{ ...tagged, aliases: ['champion'] }],
    });
    expect(await ok('GET', `/model-versions/get-download-uri${q({ name: 'smoke', version: 1 })}`)).toEqual({ artifact_uri: `${runArtifacts}/sub` });
  });

  it('registers a 3.x logged model: run id from the model, files from its artifacts', async () => {
    await ok('POST', '/registered-models/create', { name: 'skl' });
    const { model_version } = await ok('POST', '/model-versions/create', { name: 'skl', source: `models:/${loggedModelId}`, model_id: loggedModelId });
    expect(model_version).toMatchObject({ version: '1', source: `models:/${loggedModelId}`, run_id: runId, description: '', run_link: '' });
    expect(model_version).not.toHaveProperty('tags');
    expect(await ok('GET', `/model-versions/get-download-uri${q({ name: 'skl', version: '1' })}`)).toEqual({
      artifact_uri: `mlflow-artifacts:/1/models/${loggedModelId}/artifacts`,
    });
    const { registered_model } = await ok('GET', `/registered-models/get${q({ name: 'skl' })}`);
    expect(Object.keys(registered_model).sort()).toEqual(['creation_timestamp', 'last_updated_timestamp', 'latest_versions', 'name']);

    const modelVersionsTag = () =>
      (world.t.app.db.$client.prepare("select value from logged_model_tags where model_id = ? and key = 'mlflow.modelVersions'").get(loggedModelId) as { value: string })
        .value;
    expect(modelVersionsTag()).toBe('[{"name": "skl", "version": 1}]');
    world.t.app.db.$client
      .prepare("update logged_model_tags set value = ? where model_id = ? and key = 'mlflow.modelVersions'")
      .run('[{"name": "skl", "version": 1}, {"name": "skl", "version": "1"}]', loggedModelId);
    await ok('POST', '/model-versions/create', { name: 'skl', source: `models:/${loggedModelId}`, model_id: loggedModelId });
    expect(modelVersionsTag()).toBe('[{"name": "skl", "version": 1}, {"name": "skl", "version": "1"}, {"name": "skl", "version": 2}]');
  });

  it('registers versions of a run and a logged model made through the tracking API', async () => {
    const { experiment_id } = await ok('POST', '/experiments/create', { name: 'through-http' });
    const { run } = await ok('POST', '/runs/create', { experiment_id, start_time: world.t.clock.now });
    const { model } = await ok('POST', '/logged-models', { experiment_id, name: 'net', source_run_id: run.info.run_id });
    await ok('POST', '/registered-models/create', { name: 'through-http' });
    await ok('POST', '/model-versions/create', { name: 'through-http', source: `runs:/${run.info.run_id}/net`, run_id: run.info.run_id });
    const { model_version } = await ok('POST', '/model-versions/create', {
      name: 'through-http',
      source: `models:/${model.info.model_id}`,
      model_id: model.info.model_id,
    });
    expect(model_version).toMatchObject({ version: '2', run_id: run.info.run_id });
    const uri = async (version: string) => (await ok('GET', `/model-versions/get-download-uri${q({ name: 'through-http', version })}`)).artifact_uri;
    expect([await uri('1'), await uri('2')]).toEqual([`${run.info.artifact_uri}/net`, model.info.artifact_uri]);
    const tags = (await ok('GET', `/logged-models/${model.info.model_id}`)).model.info.tags;
    expect(tags).toContainEqual({ key: 'mlflow.modelVersions', value: '[{"name": "through-http", "version": 2}]' });
  });

  it('serves the same API under /ajax-api', async () => {
    const response = await world.t.request(`/ajax-api/2.0/mlflow/registered-models/get${q({ name: 'smoke' })}`, { headers: { Authorization: world.t.basic(ADMIN) } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).registered_model.name).toBe('smoke');
  });
});

/** A fresh model with `count` versions from the run, each source under its own path. */
describe('model versions', () => {
  it('never hands out a deleted version number again', async () => {
    await modelWithVersions('seq', 3);
    await ok('DELETE', '/model-versions/delete', { name: 'seq', version: '3' });
    await ok('DELETE', '/model-versions/delete', { name: 'seq', version: '2' });
    const { model_version } = await ok('POST', '/model-versions/create', { name: 'seq', source: 'mlflow-artifacts:/1/x' });
    expect(model_version.version).toBe('4');
    expect(await versionNumbers('seq')).toEqual(['1', '4']);
    expect(await call('GET', `/model-versions/get${q({ name: 'seq', version: '2' })}`)).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=seq, version=2) not found' },
    });
    const row = world.t.app.db.$client
      .prepare("select source, run_id, current_stage from model_versions v join registered_models m on m.id = v.model_id where m.name = 'seq' and version = 2")
      .get();
    expect(row).toEqual({ source: 'REDACTED-SOURCE-PATH', run_id: 'REDACTED-RUN-ID', current_stage: 'Deleted_Internal' });
  });

  it('stamps the version and its model as MLflow does', async () => {
    await ok('POST', '/registered-models/create', { name: 'stamps' });
    world.t.clock.advance(5000);
    const created = world.t.clock.now;
    await ok('POST', '/model-versions/create', { name: 'stamps', source: 'mlflow-artifacts:/1/x' });
    const model = async () => (await ok('GET', `/registered-models/get${q({ name: 'stamps' })}`)).registered_model;
    expect((await model()).last_updated_timestamp).toBe(created);

    world.t.clock.advance(5000);
    await ok('POST', '/registered-models/alias', { name: 'stamps', alias: 'a', version: '1' });
    await ok('POST', '/model-versions/set-tag', { name: 'stamps', version: '1', key: 'k', value: 'v' });
    await ok('POST', '/registered-models/set-tag', { name: 'stamps', key: 'k', value: 'v' });
    const { model_version } = await ok('PATCH', '/model-versions/update', { name: 'stamps', version: '1', description: 'd' });
    expect(model_version.last_updated_timestamp).toBe(world.t.clock.now);
    expect((await model()).last_updated_timestamp).toBe(created);

    world.t.clock.advance(5000);
    const { registered_model } = await ok('PATCH', '/registered-models/update', { name: 'stamps', description: 'new' });
    expect(registered_model).toMatchObject({ description: 'new', last_updated_timestamp: world.t.clock.now, creation_timestamp: created - 5000 });
  });

  it('moves an alias, drops it with its version, and refuses an alias to a missing version', async () => {
    await modelWithVersions('aliases', 2);
    await ok('POST', '/registered-models/alias', { name: 'aliases', alias: 'champion', version: '1' });
    await ok('POST', '/registered-models/alias', { name: 'aliases', alias: 'champion', version: '2' });
    await ok('POST', '/registered-models/alias', { name: 'aliases', alias: 'backup', version: '1' });
    expect((await ok('GET', `/registered-models/alias${q({ name: 'aliases', alias: 'champion' })}`)).model_version.version).toBe('2');
    expect((await ok('GET', `/model-versions/get${q({ name: 'aliases', version: '1' })}`)).model_version.aliases).toEqual(['backup']);
    expect((await ok('GET', `/registered-models/get${q({ name: 'aliases' })}`)).registered_model.aliases).toEqual([
      { alias: 'backup', version: '1' },
      { alias: 'champion', version: '2' },
    ]);

    await ok('DELETE', '/model-versions/delete', { name: 'aliases', version: '2' });
    expect(await call('GET', `/registered-models/alias${q({ name: 'aliases', alias: 'champion' })}`)).toEqual({
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias champion not found.' },
    });
    expect((await call('POST', '/registered-models/alias', { name: 'aliases', alias: 'champion', version: '2' })).status).toBe(404);
    await ok('DELETE', '/registered-models/alias', { name: 'aliases', alias: 'backup' });
    await ok('DELETE', '/registered-models/alias', { name: 'aliases', alias: 'backup' });
    expect((await ok('GET', `/registered-models/get${q({ name: 'aliases' })}`)).registered_model).not.toHaveProperty('aliases');
  });

  it('moves versions through stages, archiving the others on request', async () => {
    await modelWithVersions('stages', 3);
    const transition = (version: string, stage: string, archive = false) =>
      ok('POST', '/model-versions/transition-stage', { name: 'stages', version, stage, archive_existing_versions: archive });
    expect((await transition('1', 'production')).model_version.current_stage).toBe('Production');
    await transition('2', 'Staging');
    world.t.clock.advance(1000);
    const { model_version } = await transition('3', 'Production', true);
    expect(model_version).toMatchObject({ current_stage: 'Production', last_updated_timestamp: world.t.clock.now });
    expect((await ok('GET', `/model-versions/get${q({ name: 'stages', version: '1' })}`)).model_version.current_stage).toBe('Archived');

    const latest = (await ok('GET', `/registered-models/get${q({ name: 'stages' })}`)).registered_model.latest_versions;
    expect(latest.map((v: any) => [v.current_stage, v.version])).toEqual([['Archived', '1'], ['Staging', '2'], ['Production', '3']]);
    const staged = await ok('POST', '/registered-models/get-latest-versions', { name: 'stages', stages: ['production', 'Staging'] });
    expect(staged.model_versions.map((v: any) => v.version)).toEqual(['2', '3']);
    const viaGet = await ok('GET', `/registered-models/get-latest-versions?name=stages&stages=Production&stages=None`);
    expect(viaGet.model_versions.map((v: any) => v.version)).toEqual(['3']);
    expect(await ok('POST', '/registered-models/get-latest-versions', { name: 'stages', stages: ['None'] })).toEqual({});

    expect(await call('POST', '/model-versions/transition-stage', { name: 'stages', version: '1', stage: 'Archived', archive_existing_versions: true })).toMatchObject({
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE' },
    });
  });

  it('resolves models:/ sources to the files of the version they name', async () => {
    await modelWithVersions('origin', 2);
    await ok('POST', '/registered-models/alias', { name: 'origin', alias: 'best', version: '1' });
    await ok('POST', '/model-versions/transition-stage', { name: 'origin', version: '1', stage: 'Staging', archive_existing_versions: false });
    await ok('POST', '/registered-models/create', { name: 'copy' });
    const cases: Array<[string, string]> = [
      ['models:/origin/2', `${runArtifacts}/v2`],
      ['models:/origin@best', `${runArtifacts}/v1`],
      ['models:/origin/latest', `${runArtifacts}/v2`],
      ['models:/origin/staging', `${runArtifacts}/v1`],
      [`runs:/${runId}`, runArtifacts],
      [`runs:/${runId}/deep/model/`, `${runArtifacts}/deep/model`],
      ['s3://bucket/models/x', 's3://bucket/models/x'],
    ];
    for (const [source, location] of cases) {
      const { model_version } = await ok('POST', '/model-versions/create', { name: 'copy', source });
      const { artifact_uri } = await ok('GET', `/model-versions/get-download-uri${q({ name: 'copy', version: model_version.version })}`);
      expect([source, artifact_uri]).toEqual([source, location]);
      expect(model_version.source).toBe(source);
    }
  });

  it('keeps versions, tags and aliases through a rename, and deletes them with the model', async () => {
    await modelWithVersions('before', 2);
    await ok('POST', '/registered-models/set-tag', { name: 'before', key: 'team', value: 'vision' });
    await ok('POST', '/model-versions/set-tag', { name: 'before', version: '2', key: 'ok', value: 'yes' });
    await ok('POST', '/registered-models/alias', { name: 'before', alias: 'prod', version: '2' });
    const { registered_model } = await ok('POST', '/registered-models/rename', { name: 'before', new_name: 'after' });
    expect(registered_model).toMatchObject({ name: 'after', tags: [{ key: 'team', value: 'vision' }], aliases: [{ alias: 'prod', version: '2' }] });
    expect(registered_model.latest_versions[0]).toMatchObject({ name: 'after', version: '2', tags: [{ key: 'ok', value: 'yes' }] });
    expect((await call('GET', `/registered-models/get${q({ name: 'before' })}`)).status).toBe(404);
    expect((await ok('GET', `/registered-models/alias${q({ name: 'after', alias: 'prod' })}`)).model_version.name).toBe('after');

    expect(await call('POST', '/registered-models/rename', { name: 'after', new_name: 'smoke' })).toEqual({
      status: 400,
      json: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Registered Model (name=smoke) already exists.' },
    });

    await ok('DELETE', '/registered-models/delete', { name: 'after' });
    expect((await call('GET', `/registered-models/get${q({ name: 'after' })}`)).status).toBe(404);
    const count = (table: string) => (world.t.app.db.$client.prepare(`select count(*) as n from ${table} where model_id not in (select id from registered_models)`).get() as { n: number }).n;
    expect(['model_versions', 'model_version_tags', 'registered_model_tags', 'registered_model_aliases'].map(count)).toEqual([0, 0, 0, 0]);
    await modelWithVersions('before', 1);
    expect(await versionNumbers('before')).toEqual(['1']);
  });

  it('deletes tags, and leaves absent ones alone', async () => {
    await modelWithVersions('tags', 1);
    await ok('POST', '/registered-models/set-tag', { name: 'tags', key: 'a', value: '1' });
    await ok('POST', '/registered-models/set-tag', { name: 'tags', key: 'a', value: '2' });
    await ok('POST', '/model-versions/set-tag', { name: 'tags', version: '1', key: 'b', value: '1' });
    expect((await ok('GET', `/registered-models/get${q({ name: 'tags' })}`)).registered_model.tags).toEqual([{ key: 'a', value: '2' }]);
    await ok('DELETE', '/registered-models/delete-tag', { name: 'tags', key: 'a' });
    await ok('DELETE', '/registered-models/delete-tag', { name: 'tags', key: 'a' });
    await ok('DELETE', '/model-versions/delete-tag', { name: 'tags', version: '1', key: 'b' });
    const { registered_model } = await ok('GET', `/registered-models/get${q({ name: 'tags' })}`);
    expect(registered_model).not.toHaveProperty('tags');
    expect(registered_model.latest_versions[0]).not.toHaveProperty('tags');
  });
});

