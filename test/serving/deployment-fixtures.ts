import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { vi, expect } from 'vitest';
import type { App } from '../../src/app.ts';
import { storePathOf } from '../../src/artifacts/experiment-access.ts';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import { unlessMissing } from '../../src/lib/errors.ts';
import { servingRoutes } from '../../src/server/routes/serving-routes.ts';
import { createDeploymentManager, type DeploymentManager } from '../../src/serving/deployment-manager.ts';
import type { DeploymentTimings } from '../../src/serving/deployment-timings.ts';
import { deploymentRequestSchema } from '../../src/serving/deployment-request.ts';
import type { DeploymentRecord, DeploymentState } from '../../src/serving/deployments.ts';
import { createServingMetrics } from '../../src/serving/serving-metrics.ts';
import { requireImage, workloadId } from '../runtime/runtime-fixtures.ts';
import { createSchedulerWorld, type SchedulerWorld } from '../scheduler/scheduler-fixtures.ts';

export const SERVE_IMAGE = 'trainyard/python-serve:bookworm';

/** Faster than the appliance's defaults, so that the tests do not wait on the timers. */
export const FAST_TIMINGS: Partial<DeploymentTimings> = {
  stepIntervalMs: 200,
  aliasPollMs: 200,
  livenessIntervalMs: 500,
  probeTimeoutMs: 1_000,
  readinessRetryMs: 100,
  drainMs: 1_000,
  restartBaseMs: 500,
};

export function managerFor(app: App, timings: Partial<DeploymentTimings> = FAST_TIMINGS): DeploymentManager {
  return createDeploymentManager({ deployments: app.deployments, jobs: app.jobs, jobLogs: app.jobLogs, runtime: () => app.runtime, bus: app.bus, log: app.log, timings });
}

/**
 * Registers a new version of `model` (created on first use) from a fresh run whose artifacts hold `files` under
 * `model/`, the way `mlflow.sklearn.log_model(..., "model")` and `register_model("runs:/<run>/model")` leave them.
 */
export async function registerVersion(app: App, user: UserRecord, model: string, files: Record<string, string | Buffer>): Promise<number> {
  const caller = { user };
  const { run } = app.tracking.runs.create(caller, { experiment_id: '0' });
  const folder = storePathOf(run.info.artifact_uri);
  for (const [path, content] of Object.entries(files)) await app.artifacts.write(`${folder}/model/${path}`, [Buffer.from(content)]);
  if (!unlessMissing(() => app.registry.getRegisteredModel(caller, model))) app.registry.createRegisteredModel(caller, { name: model });
  return app.registry.createModelVersion(caller, { name: model, source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id }).version;
}

export const setAlias = (app: App, user: UserRecord, model: string, alias: string, version: number) =>
  app.registry.setAlias({ user }, { name: model, alias, version: String(version) });

/** Creates a deployment as the API does, from the fields of a request. */
export function deploy(app: App, user: UserRecord, fields: Record<string, unknown>): Promise<DeploymentRecord> {
  const request = deploymentRequestSchema.parse(fields);
  return app.deployments.create({ user }, { ...request, image: request.image ?? SERVE_IMAGE });
}

/** The deployment once `check` holds (a state, or a predicate); fails after `timeoutMs` with its reason. */
export function untilDeployment(app: App, id: number, check: DeploymentState | ((deployment: DeploymentRecord) => boolean), timeoutMs = 60_000): Promise<DeploymentRecord> {
  return vi.waitFor(
    () => {
      const deployment = app.deployments.byId(id)!;
      if (typeof check === 'string') expect(deployment.state, deployment.reason).toBe(check);
      else expect(check(deployment), `${deployment.state}: ${deployment.reason}`).toBe(true);
      return deployment;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/**
 * Two classifiers on columns a and b, trained inside the serving image by a container (so that the pickles match
 * its scikit-learn): `v1` answers "low"/"high", `v2` the same in capitals, so an answer tells which version served it.
 */
const TRAIN = `
import pickle
import pandas as pd
from sklearn.linear_model import LogisticRegression
train = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]})
for name, labels in {"v1": ["low"] * 3 + ["high"] * 3, "v2": ["LOW"] * 3 + ["HIGH"] * 3}.items():
    with open(f"/outputs/{name}.pkl", "wb") as file:
        pickle.dump(LogisticRegression().fit(train, labels), file, protocol=5)`;

export async function trainModels(app: App): Promise<{ v1: Buffer; v2: Buffer }> {
  const outputs = join(app.config.dataDir, 'outputs', `training-${workloadId()}`);
  mkdirSync(outputs, { recursive: true });
  chmodSync(outputs, 0o777);
  const { id } = await app.runtime.start({ kind: 'job', id: workloadId(), project: 'default', image: SERVE_IMAGE, command: ['python3', '-c', TRAIN], outputs: { hostPath: outputs } });
  const { exitCode } = await app.runtime.wait(id);
  if (exitCode !== 0) {
    const lines: string[] = [];
    for await (const line of app.runtime.logs(id)) lines.push(line.text);
    throw new Error(`training failed: ${lines.join('\n')}`);
  }
  await app.runtime.remove(id);
  return { v1: readFileSync(join(outputs, 'v1.pkl')), v2: readFileSync(join(outputs, 'v2.pkl')) };
}

/** POSTs rows to `url`'s /invocations; the predictions, or the status and body of a failure. */
export async function invoke(url: string, rows: number[][] = [[0, 5], [5, 0]]): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: rows }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the failure message
  }
  return { status: response.status, body };
}

/**
 * The serving routes on a real socket in front of the app's deployments, as the appliance has them (anything else
 * answers 404). Return its `close` from the `beforeAll` that starts it.
 */
export async function startProxy(app: App): Promise<{ url: string; close(): Promise<void> }> {
  const routes = servingRoutes({
    credentials: app.credentials,
    projects: app.projects,
    metrics: createServingMetrics({ now: Date.now }),
    log: app.log,
    target: (name) => app.deployments.target(name),
    trustProxy: false,
    samples: app.requestSamples,
  });
  const proxy = routes.createServer({}, (_incoming, outgoing) => outgoing.writeHead(404).end());
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    async close() {
      routes.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** A call's outcome: the prediction for the row [0, 5] ("low" from `v1`, "LOW" from `v2`), or a failure's body (status 0: no answer). */
export interface Prediction {
  status: number;
  answer: string;
}

/** POSTs the row [0, 5] to `url`/serve/`name`/invocations with a Bearer token. */
export async function predictThrough(url: string, name: string, secret: string): Promise<Prediction> {
  try {
    const response = await fetch(`${url}/serve/${name}/invocations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ instances: [[0, 5]] }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, answer: response.status === 200 ? (JSON.parse(text) as { predictions: string[] }).predictions[0]! : text };
  } catch (error) {
    return { status: 0, answer: String(error) };
  }
}

/** `concurrency` callers, each making its next call as soon as its last one answered, until stopped: the outcomes in the order the calls started. */
export function steadyLoad(call: () => Promise<Prediction>, concurrency: number): { stop(): Promise<Prediction[]> } {
  let stopped = false;
  const outcomes: Prediction[] = [];
  const caller = async () => {
    while (!stopped) {
      const index = outcomes.length;
      outcomes.push({ status: 0, answer: 'pending' });
      outcomes[index] = await call();
    }
  };
  const callers = Array.from({ length: concurrency }, caller);
  return {
    async stop() {
      stopped = true;
      await Promise.all(callers);
      return outcomes;
    },
  };
}

/**
 * The engine serving model "iris", versions 1 and 2 (told apart by their answers), behind the proxy with the
 * deployment manager running, and an API token of the admin. Return its `close` from the `beforeAll` that starts it.
 */
export async function startIrisWorld(engine: Dockerode): Promise<{ w: SchedulerWorld; url: string; token: string; close(): Promise<void> }> {
  await requireImage(engine, SERVE_IMAGE);
  const w = await createSchedulerWorld(engine);
  const { v1, v2 } = await trainModels(w.app);
  for (const pickle of [v1, v2]) await registerVersion(w.app, w.admin, 'iris', { 'model.pkl': pickle });
  const token = w.app.tokens.create(w.admin, { name: 'test' }, { actor: 'test' }).secret;
  const proxy = await startProxy(w.app);
  const manager = managerFor(w.app);
  await manager.start();
  return {
    w,
    url: proxy.url,
    token,
    async close() {
      await manager.stop();
      await proxy.close();
      await w.close();
    },
  };
}
