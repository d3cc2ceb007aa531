// yard deploy, deployments, rollback and undeploy against a running appliance whose scheduler and deployment
// manager run replicas on the real engine.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { loadConfig } from '../../src/config.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import type { DeploymentJson } from '../../src/serving/deployment-json.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ROOT, finished, type Finished } from '../helpers/processes.ts';
import { removeInstanceContainers, requireImage } from '../runtime/runtime-fixtures.ts';
import { invoke, registerVersion, SERVE_IMAGE, trainModels } from '../serving/deployment-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe.skipIf(!docker)('yard deploy, deployments, rollback and undeploy', () => {
  let appliance: Appliance;
  let env: NodeJS.ProcessEnv;
  const yard = (args: string[], timeoutMs = 60_000): Promise<Finished> =>
    finished(spawn(process.execPath, [join(ROOT, 'src/cli/yard.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' }), undefined, timeoutMs);
  const listed = async (...args: string[]) => (JSON.parse((await yard(['deployments', '--json', ...args])).stdout) as { deployments: DeploymentJson[] }).deployments;

  beforeAll(async () => {
    await requireImage(docker as Dockerode, SERVE_IMAGE);
    const config = { dataDir: temp('trainyard-cli-deploy-'), port: 0, logLevel: 'silent', gpus: 'fake:2xL4', adminUsername: 'ops', adminPassword: 'ops-password-1' };
    appliance = await startAppliance(loadConfig(config, {}));
    const admin = appliance.app.users.get('ops');
    const { v1 } = await trainModels(appliance.app);
    await registerVersion(appliance.app, admin, 'iris', { 'model.pkl': v1 });
    const { secret } = appliance.app.tokens.create(admin, { name: 'cli test' }, { actor: 'test' });
    env = { XDG_CONFIG_HOME: temp('trainyard-cli-config-'), TRAINYARD_URL: appliance.url, TRAINYARD_TOKEN: secret };
  }, 120_000);
  afterAll(async () => {
    if (!appliance) return;
    const instanceId = readInstanceId(appliance.app.config.dataDir);
    await appliance.close();
    await removeInstanceContainers(docker as Dockerode, [instanceId]);
  });

  it('deploy waits until the deployment is ready, prints its URL and how to call it; deployments lists it', async () => {
    const started = performance.now();
    const result = await yard(['deploy', 'models:/iris/1', '--name', 'iris', '--replicas', '2', '--env', 'THREADS=1']);
    const elapsed = performance.now() - started;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${appliance.url}/serve/iris\n`);
    expect(result.stderr).toContain('Deploying version 1 of models:/iris/1 as iris; Ctrl-C stops waiting\n');
    expect(result.stderr).toContain('Deployment iris is ready: version 1 of models:/iris/1, 2 of 2 replicas\n');
    expect(result.stderr).toContain(`  curl -H "Authorization: Bearer $TRAINYARD_TOKEN" -H "Content-Type: application/json" -d '{"inputs": [[1.0, 2.0]]}' ${appliance.url}/serve/iris/invocations\n`);
    const { upstreams } = appliance.app.deployments.target('iris')!;
    expect(upstreams).toHaveLength(2);
    for (const upstream of upstreams) expect(await invoke(upstream)).toEqual({ status: 200, body: { predictions: ['low', 'high'] } });
    // What the printed curl does: through the appliance's proxy, with the caller's token.
    const proxied = await fetch(`${appliance.url}/serve/iris/invocations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${env.TRAINYARD_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [[0, 5], [5, 0]] }),
    });
    expect({ status: proxied.status, body: await proxied.json() }).toEqual({ status: 200, body: { predictions: ['low', 'high'] } });
    const anonymous = await fetch(`${appliance.url}/serve/iris/invocations`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(appliance.app.servingMetrics.of('iris')).toMatchObject({ requests: 1, statusClasses: { '2xx': 1 } });
    console.info(`yard deploy (2 replicas) to ready: ${Math.round(elapsed)} ms`);

    const table = await yard(['deployments']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+MODEL\s+VERSION\s+READY\s+PROJECT\s+PATH$/);
    expect(table.stdout.split('\n')[1]).toMatch(/^iris\s+ready\s+models:\/iris\/1\s+1\s+2\/2\s+default\s+\/serve\/iris$/);
    expect(await listed()).toEqual([expect.objectContaining({ name: 'iris', state: 'ready', env: { THREADS: '1' }, readyReplicas: 2 })]);
  }, 120_000);

  it("deployments set changes its settings; deployments token makes, lists and revokes tokens that call it only", async () => {
    const set = await yard(['deployments', 'set', 'iris', '--canary-weight', '20', '--sample-rate', '0.5', '--sample-max-bytes', '16KB']);
    expect(set, set.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(set.stderr).toBe('Deployment iris: private; a version the alias moves to takes 20% of the calls until promoted; sampling 50% of the calls, up to 16384 bytes per body\n');
    expect((await yard(['deployments', 'set', 'iris', '--canary-weight', 'none', '--json'])).stdout).toContain('"canaryWeight": null');

    const created = await yard(['deployments', 'token', 'create', 'iris', '--name', 'billing', '--expires', '30d']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe('It may call /serve/iris/... only. Store it now: it is not shown again.\n');
    const secret = created.stdout.trim();
    const called = await fetch(`${appliance.url}/serve/iris/invocations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [[0, 5], [5, 0]] }),
    });
    expect({ status: called.status, body: await called.json() }).toEqual({ status: 200, body: { predictions: ['low', 'high'] } });
    expect((await fetch(`${appliance.url}/api/v1/deployments`, { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(403);

    const table = (await yard(['deployments', 'token', 'list', 'iris'])).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+NAME\s+TOKEN\s+CREATED BY\s+EXPIRES\s+LAST USED\s+STATE$/);
    expect(table[1]).toMatch(new RegExp(`^\\d+\\s+billing\\s+${secret.slice(0, 9)}…\\s+ops\\s+.+\\s+active$`));
    // The maker's own list says what the token reaches.
    expect((await yard(['token', 'list'])).stdout).toMatch(new RegExp(`\\n\\d+\\s+billing\\s+${secret.slice(0, 9)}…\\s+deployment iris\\s`));
    const [listed] = (JSON.parse((await yard(['deployments', 'token', 'list', 'iris', '--json'])).stdout) as { tokens: Array<{ id: number }> }).tokens;
    expect(await yard(['deployments', 'token', 'revoke', 'iris', String(listed!.id)])).toMatchObject({ code: 0, stderr: `Revoked token ${listed!.id} of deployment iris\n` });
    expect((await fetch(`${appliance.url}/serve/iris/ping`, { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(401);
  }, 60_000);

  it('deploy takes the canary weight and sampling; promote and rollback say when there is no canary', async () => {
    const result = await yard(['deploy', 'models:/iris/1', '--name', 'flags', '--canary-weight', '20', '--sample-rate', '0.1', '--sample-max-bytes', '8KB', '--no-wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { deployment: DeploymentJson }).deployment).toMatchObject({ canaryWeight: 20, sampleRate: 0.1, sampleMaxBytes: 8192, canary: null });
    expect(await yard(['promote', 'flags'])).toMatchObject({ code: 1, stderr: 'yard: deployment "flags" has no canary to promote: one runs when its alias moves and canaryWeight is set\n' });
    expect((await yard(['undeploy', 'flags'])).code).toBe(0);
  }, 60_000);

  it('deploy exits 1 with the reason when the deployment fails', async () => {
    const result = await yard(['deploy', 'models:/iris/1', '--name', 'broken', '--', 'python3', '-c', 'import sys; print("cannot load", file=sys.stderr); sys.exit(2)']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^yard: deployment broken failed: replica 1 \(job \d+\) failed: exit code 2; its last log lines:\ncannot load\n$/m);
    expect(result.stdout).toBe('');
  }, 60_000);

  it.each([
    ['a name another deployment holds', ['deploy', 'models:/iris/1', '--name', 'iris'], 1, /^yard: a deployment named "iris" already exists/],
    ['a model that does not exist', ['deploy', 'models:/nope/1', '--name', 'nope'], 1, /^yard: Registered Model with name=nope not found\n$/],
    ['an alias that does not exist', ['deploy', 'models:/iris@champion', '--name', 'nope'], 1, /^yard: Registered model alias champion not found\.\n$/],
    ['no name', ['deploy', 'models:/iris/1'], 2, /required option '--name <name>' not specified/],
    ['replicas that are not a number', ['deploy', 'models:/iris/1', '--name', 'x', '--replicas', 'two'], 2, /--replicas takes a whole number above 0, got "two"/],
    ['an env that is not NAME=value', ['deploy', 'models:/iris/1', '--name', 'x', '--env', 'THREADS'], 2, /--env takes NAME=value, got "THREADS"/],
    ['too many replicas', ['deploy', 'models:/iris/1', '--name', 'x', '--replicas', '9'], 1, /^yard: replicas: /],
    ['a rollback with no earlier version', ['rollback', 'iris'], 1, /^yard: deployment "iris" has served no other version to roll back to\n$/],
    ['undeploying a deployment that does not exist', ['undeploy', 'nope'], 1, /^yard: no deployment named "nope"\n$/],
    ['a canary weight of 0', ['deploy', 'models:/iris/1', '--name', 'x', '--canary-weight', '0'], 2, /--canary-weight takes a whole percent from 1 to 99, got "0"/],
    ['a sample rate above 1', ['deploy', 'models:/iris/1', '--name', 'x', '--sample-rate', '2'], 2, /--sample-rate takes a share of calls from 0 to 1, like 0.1, got "2"/],
    ['a sample cap that is no size', ['deployments', 'set', 'iris', '--sample-max-bytes', 'lots'], 1, /^yard: sampleMaxBytes: sampleMaxBytes must be a size like 20GB or 512MB, got "lots"\n$/],
    ['settings with nothing to change', ['deployments', 'set', 'iris'], 2, /^yard: say what to change: --public, --private, --canary-weight, --sample-rate or --sample-max-bytes\n$/],
    ['public and private at once', ['deployments', 'set', 'iris', '--public', '--private'], 2, /^yard: choose --public or --private, not both\n$/],
    ['a token for a deployment that does not exist', ['deployments', 'token', 'create', 'nope', '--name', 'x'], 1, /^yard: no deployment named "nope"\n$/],
    ['a token without a name', ['deployments', 'token', 'create', 'iris'], 2, /required option '--name <name>' not specified/],
    ['a token id that is no number', ['deployments', 'token', 'revoke', 'iris', 'x'], 2, /^yard: "x" is not a token id\n$/],
  ])('exits with a clear message on %s', async (_name, args, code, message) => {
    const result = await yard(args);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('undeploy stops it: the list shows it no more, --all shows it stopped, and its containers go', async () => {
    const result = await yard(['undeploy', 'iris']);
    expect(result).toMatchObject({ code: 0, stderr: 'Undeployed iris: its replicas stop\n' });
    expect(await listed()).toEqual([]);
    expect((await listed('--all')).map(({ name, state }) => `${name} ${state}`)).toEqual(['broken failed', 'flags stopped', 'iris stopped']);
    const deployment = appliance.app.deployments.get(appliance.app.users.get('ops'), 'iris');
    await expect.poll(() => appliance.app.jobs.replicasOf(deployment.id, ['queued', 'starting', 'running']).length, { timeout: 30_000 }).toBe(0);
  }, 60_000);
});
