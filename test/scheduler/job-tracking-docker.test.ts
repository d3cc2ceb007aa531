import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { PROJECT_TAG } from '../../src/auth/projects.ts';
import { loadConfig } from '../../src/config.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import { isFinished } from '../../src/scheduler/job-states.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ROOT } from '../helpers/processes.ts';
import { removeInstanceContainers, requireImage } from '../runtime/runtime-fixtures.ts';

/** Built by scripts/python-image.sh: Debian bookworm's python3, nothing else. */
const PYTHON_IMAGE = 'trainyard/python:bookworm';
const SCRIPT = readFileSync(join(ROOT, 'test/python/job_logs_metrics.py'), 'utf8');
const JOB_USER = { username: 'jo', password: 'jo-password-123' };

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

describe.skipIf(!docker)('a job logs to its MLflow run from a container, with only the environment it was given', () => {
  const engine = docker as Dockerode;
  let dataDir: string;
  let appliance: Appliance;

  beforeAll(async () => {
    await requireImage(engine, PYTHON_IMAGE);
    dataDir = mkdtempSync(join(tmpdir(), 'trainyard-job-tracking-'));
    // The default listen address (127.0.0.1) and bridge setting: containers must get in all the same. Port 0 is
    // resolved before the app is built, so the port the job is sent to is the one the appliance listens on.
    appliance = await startAppliance(loadConfig({ dataDir, port: 0, logLevel: 'silent', adminPassword: 'docker-admin-1', gpus: 'none' }, {}));
    const { app } = appliance;
    expect(app.config.port).toBe(Number(new URL(appliance.url).port));
    await app.users.create({ ...JOB_USER, displayName: 'Jo' }, { actor: 'test' });
    app.projects.create({ name: 'vision' }, { actor: 'test' });
    app.projects.setMember(app.projects.get('vision'), JOB_USER.username, 'editor', { actor: 'test' });
  }, 30_000);

  afterAll(async () => {
    await appliance?.close();
    await removeInstanceContainers(engine, [readInstanceId(dataDir)]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The MLflow API over the appliance's socket, as `authorization`. */
  const mlflow = async (method: string, path: string, authorization: string, body?: unknown) => {
    const response = await fetch(`${appliance.url}/api/2.0/mlflow${path}`, {
      method,
      headers: { Authorization: authorization, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, json: (await response.json()) as any };
  };

  it('logs metrics, a param and an artifact to its run through host.docker.internal, and cannot write to another run', async () => {
    const { app } = appliance;
    const admin = `Basic ${Buffer.from('admin:docker-admin-1').toString('base64')}`;
    const elsewhere = (await mlflow('POST', '/experiments/create', admin, { name: 'elsewhere', tags: [{ key: PROJECT_TAG, value: 'vision' }] })).json.experiment_id;
    const otherRun = (await mlflow('POST', '/runs/create', admin, { experiment_id: elsewhere })).json.run.info.run_id;

    // Submitted as a user would: the appliance's own scheduler prepares the run and starts the container.
    const submission = { project: 'vision', name: 'train in a container', image: PYTHON_IMAGE, command: ['python3', '-c', SCRIPT, otherRun], timeLimit: '10m' };
    const queued = app.jobs.submit(app.users.get(JOB_USER.username), jobSubmissionSchema.parse(submission));
    const job = await vi.waitFor(
      () => {
        const current = app.jobs.byId(queued.id)!;
        expect(isFinished(current.state), current.reason).toBe(true);
        return current;
      },
      { timeout: 30_000, interval: 50 },
    );
    const output = app.jobLogs.read(job.id).filter((line) => line.stream !== 'system').map((line) => line.text);
    expect(job.state, output.join('\n')).toBe('succeeded');
    const runId = job.mlflowRunId!;
    expect(JSON.parse(output.at(-1)!)).toEqual({ run_id: runId, refused: { error_code: 'PERMISSION_DENIED', message: `this token is scoped to run ${runId}: it cannot touch run ${otherRun}` } });

    const { run } = (await mlflow('GET', `/runs/get?run_id=${runId}`, admin)).json;
    expect(run.info).toMatchObject({ status: 'FINISHED', run_name: 'train in a container' });
    expect((await mlflow('GET', `/experiments/get?experiment_id=${run.info.experiment_id}`, admin)).json.experiment.name).toBe('jobs/vision');
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(Object.fromEntries(run.data.metrics.map((metric: { key: string; value: number }) => [metric.key, metric.value]))).toEqual({ loss: 0.2, accuracy: 0.93 });
    const history = (await mlflow('GET', `/metrics/get-history?run_id=${runId}&metric_key=loss`, admin)).json.metrics;
    expect(history.map((point: { step: number }) => point.step)).toEqual([0, 1, 2, 3, 4]);
    const artifacts = await fetch(`${appliance.url}/api/2.0/mlflow-artifacts/artifacts/${run.info.experiment_id}/${runId}/artifacts/notes.txt`, { headers: { Authorization: admin } });
    expect(await artifacts.text()).toBe('trained\n');
    expect((await mlflow('GET', `/runs/get?run_id=${otherRun}`, admin)).json.run.data.metrics).toBeUndefined();
    // The job is over: its token is revoked.
    const tokens = app.tokens.list(app.users.get(JOB_USER.username)).filter((token) => token.runUuid === runId);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.revokedAt).not.toBeNull();
  }, 60_000);
});
