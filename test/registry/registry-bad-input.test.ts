import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../helpers/scenarios.ts';
import { API, basicAdmin, q, useRegistryWorld } from './registry-world.ts';

const world = useRegistryWorld();
const { modelWithVersions } = world;

describe('bad input', () => {
  let before: unknown;
  const snapshot = () =>
    ['registered_models', 'registered_model_tags', 'registered_model_aliases', 'model_versions', 'model_version_tags'].map((table) =>
      world.t.app.db.$client.prepare(`select * from ${table} order by 1, 2`).all(),
    );
  beforeAll(async () => {
    await modelWithVersions('steady', 1);
    before = snapshot();
  });

  const missing = (field: string) => `Missing value for required parameter '${field}'.`;
  const long = 'k'.repeat(251);
  const cases: Array<[string, string, string, unknown, number, string, string]> = [
    // [name, method, path, body, status, error_code, message fragment]
    ['create without a name', 'POST', '/registered-models/create', {}, 400, 'INVALID_PARAMETER_VALUE', missing('name')],
    ['create with an empty name', 'POST', '/registered-models/create', { name: '' }, 400, 'INVALID_PARAMETER_VALUE', missing('name')],
    ['create with a null name', 'POST', '/registered-models/create', { name: null }, 400, 'INVALID_PARAMETER_VALUE', missing('name')],
    ['create with a numeric name', 'POST', '/registered-models/create', { name: 5 }, 400, 'INVALID_PARAMETER_VALUE', "Invalid value 5 for parameter 'name' supplied: Hint: Value was of type 'int'."],
    ['create with a 257-character name', 'POST', '/registered-models/create', { name: 'n'.repeat(257) }, 400, 'INVALID_PARAMETER_VALUE', "'name' exceeds the maximum length of 256"],
    ['create a duplicate', 'POST', '/registered-models/create', { name: 'steady' }, 400, 'RESOURCE_ALREADY_EXISTS', 'Registered Model (name=steady) already exists.'],
    ['create with tags that are not a list', 'POST', '/registered-models/create', { name: 'x', tags: { a: 1 } }, 400, 'INVALID_PARAMETER_VALUE', `Invalid value {"a":1} for parameter 'tags' supplied`],
    ['create with a tag that is no object', 'POST', '/registered-models/create', { name: 'x', tags: ['team'] }, 400, 'INVALID_PARAMETER_VALUE', `Invalid value "team" for parameter 'tags[0]' supplied`],
    ['create with a numeric tag value', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: 'k', value: 1 }] }, 400, 'INVALID_PARAMETER_VALUE', "Invalid value 1 for parameter 'tags[0].value' supplied"],
    ['create with a tag key of 251 characters', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: long, value: 'v' }] }, 400, 'INVALID_PARAMETER_VALUE', "'Tag key' exceeds the maximum length of 250"],
    ['create with an empty tag key', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: '', value: 'v' }] }, 400, 'INVALID_PARAMETER_VALUE', missing('key')],
    ['create with a tag key that climbs', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: '../etc', value: 'v' }] }, 400, 'INVALID_PARAMETER_VALUE', 'Names may be treated as files'],
    ['create with a tag key with odd characters', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: 'a*b', value: 'v' }] }, 400, 'INVALID_PARAMETER_VALUE', 'Names may only contain alphanumerics'],
    ['create with a 5001-character tag value', 'POST', '/registered-models/create', { name: 'x', tags: [{ key: 'k', value: 'v'.repeat(5001) }] }, 400, 'INVALID_PARAMETER_VALUE', "'value' exceeds the maximum length of 5000"],
    ['get an unknown model', 'GET', `/registered-models/get${q({ name: 'nope' })}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=nope not found'],
    ['get without a name', 'GET', '/registered-models/get', undefined, 400, 'INVALID_PARAMETER_VALUE', missing('name')],
    ['rename without a new name', 'POST', '/registered-models/rename', { name: 'steady' }, 400, 'INVALID_PARAMETER_VALUE', missing('new_name')],
    ['rename an unknown model', 'POST', '/registered-models/rename', { name: 'nope', new_name: 'x' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['update with a numeric description', 'PATCH', '/registered-models/update', { name: 'steady', description: 7 }, 400, 'INVALID_PARAMETER_VALUE', "Invalid value 7 for parameter 'description' supplied"],
    ['delete an unknown model', 'DELETE', '/registered-models/delete', { name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['set a tag without a key', 'POST', '/registered-models/set-tag', { name: 'steady', value: 'v' }, 400, 'INVALID_PARAMETER_VALUE', missing('key')],
    ['set a tag on an unknown model', 'POST', '/registered-models/set-tag', { name: 'nope', key: 'k', value: 'v' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['delete a tag of an unknown model', 'DELETE', '/registered-models/delete-tag', { name: 'nope', key: 'k' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['set an empty alias', 'POST', '/registered-models/alias', { name: 'steady', alias: '', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias name cannot be empty.'],
    ['set the reserved alias latest', 'POST', '/registered-models/alias', { name: 'steady', alias: 'Latest', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved."],
    ['set a version-like alias', 'POST', '/registered-models/alias', { name: 'steady', alias: 'v2', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', "Version alias name 'v2' is reserved."],
    ['set an alias with a dot', 'POST', '/registered-models/alias', { name: 'steady', alias: 'a.b', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'a.b'"],
    ['set an alias to a version that is no number', 'POST', '/registered-models/alias', { name: 'steady', alias: 'a', version: 'one' }, 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'one'."],
    ['set an alias to an unknown version', 'POST', '/registered-models/alias', { name: 'steady', alias: 'a', version: '9' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=steady, version=9) not found'],
    ['get an unknown alias', 'GET', `/registered-models/alias${q({ name: 'steady', alias: 'nope' })}`, undefined, 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias nope not found.'],
    ['get an alias of an unknown model', 'GET', `/registered-models/alias${q({ name: 'nope', alias: 'a' })}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['latest versions in a bad stage', 'POST', '/registered-models/get-latest-versions', { name: 'steady', stages: ['Live'] }, 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived.'],
    ['latest versions with stages that are not strings', 'POST', '/registered-models/get-latest-versions', { name: 'steady', stages: [1] }, 400, 'INVALID_PARAMETER_VALUE', "for parameter 'stages' supplied"],
    ['a version of an unknown model', 'POST', '/model-versions/create', { name: 'nope', source: 'mlflow-artifacts:/1/x' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'name=nope'],
    ['a version without a source', 'POST', '/model-versions/create', { name: 'steady' }, 400, 'INVALID_PARAMETER_VALUE', missing('source')],
    ['a version from a local path', 'POST', '/model-versions/create', { name: 'steady', source: '/etc/passwd' }, 400, 'INVALID_PARAMETER_VALUE', 'To use a local path as a model version source'],
    ['a version from a file: URI', 'POST', '/model-versions/create', { name: 'steady', source: 'file:///tmp/model' }, 400, 'INVALID_PARAMETER_VALUE', 'To use a local path as a model version source'],
    ['a version from a climbing source', 'POST', '/model-versions/create', { name: 'steady', source: 'mlflow-artifacts:/1/../../etc' }, 400, 'INVALID_PARAMETER_VALUE', 'without relative path references'],
    ['a version from an encoded climbing source', 'POST', '/model-versions/create', { name: 'steady', source: 'mlflow-artifacts:/1/%252e%252e/x' }, 400, 'INVALID_PARAMETER_VALUE', 'without relative path references'],
    ['a version from an unknown run', 'POST', '/model-versions/create', { name: 'steady', source: `runs:/${'0'.repeat(32)}/m` }, 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${'0'.repeat(32)} not found`],
    ['a version from an unknown logged model', 'POST', '/model-versions/create', { name: 'steady', source: 'models:/m-0000' }, 404, 'RESOURCE_DOES_NOT_EXIST', "Logged model with ID 'm-0000' not found."],
    ['a version naming an unknown logged model', 'POST', '/model-versions/create', { name: 'steady', source: 'mlflow-artifacts:/1/x', model_id: 'm-0000' }, 404, 'RESOURCE_DOES_NOT_EXIST', "Logged model with ID 'm-0000' not found."],
    ['a version from an unknown registered version', 'POST', '/model-versions/create', { name: 'steady', source: 'models:/steady/7' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=steady, version=7) not found'],
    ['a version from a malformed models URI', 'POST', '/model-versions/create', { name: 'steady', source: 'models:/a/b/c' }, 400, 'INVALID_PARAMETER_VALUE', 'Not a proper models:/ URI'],
    ['a version with a bad tag', 'POST', '/model-versions/create', { name: 'steady', source: 'mlflow-artifacts:/1/x', tags: [{ key: long }] }, 400, 'INVALID_PARAMETER_VALUE', "'Tag key' exceeds"],
    ['get a version that is no number', 'GET', `/model-versions/get${q({ name: 'steady', version: '1.5' })}`, undefined, 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got '1.5'."],
    ['get a version without a version', 'GET', `/model-versions/get${q({ name: 'steady' })}`, undefined, 400, 'INVALID_PARAMETER_VALUE', missing('version')],
    ['get a huge version', 'GET', `/model-versions/get${q({ name: 'steady', version: '99999999999999999999' })}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST', 'version=99999999999999999999'],
    ['get an unknown version', 'GET', `/model-versions/get${q({ name: 'steady', version: '-1' })}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=steady, version=-1) not found'],
    ['update a version given as a number', 'PATCH', '/model-versions/update', { name: 'steady', version: 1, description: 'x' }, 400, 'INVALID_PARAMETER_VALUE', "Invalid value 1 for parameter 'version' supplied: Hint: Value was of type 'int'."],
    ['delete an unknown version', 'DELETE', '/model-versions/delete', { name: 'steady', version: '5' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'version=5'],
    ['tag an unknown version', 'POST', '/model-versions/set-tag', { name: 'steady', version: '5', key: 'k', value: 'v' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'version=5'],
    ['tag a version with a long key', 'POST', '/model-versions/set-tag', { name: 'steady', version: '1', key: long, value: 'v' }, 400, 'INVALID_PARAMETER_VALUE', "'Tag key' exceeds"],
    ['untag a version without a key', 'DELETE', '/model-versions/delete-tag', { name: 'steady', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', missing('key')],
    ['the download URI of an unknown version', 'GET', `/model-versions/get-download-uri${q({ name: 'steady', version: '3' })}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST', 'version=3'],
    ['a transition to a bad stage', 'POST', '/model-versions/transition-stage', { name: 'steady', version: '1', stage: 'Live' }, 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage: Live.'],
    ['a transition without a stage', 'POST', '/model-versions/transition-stage', { name: 'steady', version: '1' }, 400, 'INVALID_PARAMETER_VALUE', missing('stage')],
    ['a transition with a string flag', 'POST', '/model-versions/transition-stage', { name: 'steady', version: '1', stage: 'Staging', archive_existing_versions: 'yes' }, 400, 'INVALID_PARAMETER_VALUE', `Invalid value "yes" for parameter 'archive_existing_versions' supplied`],
    ['a transition archiving into None', 'POST', '/model-versions/transition-stage', { name: 'steady', version: '1', stage: 'None', archive_existing_versions: true }, 400, 'INVALID_PARAMETER_VALUE', "'None' is not an Active stage"],
  ];

  runScenarios(
    () => world.t,
    cases.map(([name, method, path, body, status, code, message]) => ({
      name,
      method,
      path: `${API}${path}`,
      body,
      headers: { Authorization: basicAdmin },
      status,
      json: { error_code: code },
      contains: [message.replaceAll('"', '\\"')],
    })),
  );

  runScenarios(() => world.t, [
    { name: 'a body that is not JSON', method: 'POST', path: `${API}/registered-models/create`, body: 'name=x', headers: { Authorization: basicAdmin, 'Content-Type': 'application/json' }, status: 400 },
    { name: 'a body sent as a form', method: 'POST', path: `${API}/registered-models/create`, body: new URLSearchParams({ name: 'x' }), headers: { Authorization: basicAdmin }, status: 415 },
    { name: 'a JSON array for a body', method: 'POST', path: `${API}/registered-models/create`, body: '[1]', headers: { Authorization: basicAdmin, 'Content-Type': 'application/json' }, status: 400 },
    { name: 'no credentials', method: 'GET', path: `${API}/registered-models/get?name=steady`, status: 401 },
  ]);

  it('changed nothing that was stored', () => {
    expect(snapshot()).toEqual(before);
  });
});

