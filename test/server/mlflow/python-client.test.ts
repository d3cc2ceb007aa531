import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, type Appliance } from '../../../src/appliance.ts';
import { loadConfig } from '../../../src/config.ts';
import { requirePython } from '../../helpers/environment.ts';
import { finished, ROOT } from '../../helpers/processes.ts';
import { spawn } from 'node:child_process';

const python = requirePython();
let appliance: Appliance;

describe.skipIf(!python)('the mlflow client flow over real HTTP (Python, standard library only)', () => {
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-python-'));
    appliance = await startAppliance(loadConfig({ dataDir, port: 0, logLevel: 'silent', adminPassword: 'python-admin-1' }, {}));
  });
  afterAll(async () => appliance?.close());

  it('walks experiment, run, params, metrics, batch, artifacts, search, history, registry and alias', async () => {
    const admin = appliance.app.users.get('admin');
    const { secret } = appliance.app.tokens.create(admin, { name: 'python' }, { actor: 'test' });
    const child = spawn(python!, ['test/python/mlflow_client_flow.py', appliance.url, secret], { cwd: ROOT, stdio: 'pipe' });
    const result = await finished(child, undefined, 60_000);
    expect(result.stderr + result.stdout).toMatch(/mlflow client flow: \d+ checks passed/);
    expect(result.code).toBe(0);
  });
});
