// The serving image's scoring server (scripts/serve/score.py), run the way deployments run it: through the container
// runtime, with a model folder mounted read-only at /model and its port published on 127.0.0.1. The model is trained
// inside the image by a job, so the pickle matches the image's scikit-learn.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ROOT } from '../helpers/processes.ts';
import { collectLines, createTestRuntime, removeInstanceContainers, requireImage, testInstanceId, workloadId } from './runtime-fixtures.ts';

const SERVE_IMAGE = 'trainyard/python-serve:bookworm';
const SCORE_SERVER = join(ROOT, 'scripts/serve/score.py');
const PORT = 8080;

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

/** Fits on columns a and b: "high" when a is large. Written by pickle, as the documented format says. */
const TRAIN = `
import pickle
import pandas as pd
from sklearn.linear_model import LogisticRegression
train = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]})
labels = ["low", "low", "low", "high", "high", "high"]
with open("/outputs/model.pkl", "wb") as file:
    pickle.dump(LogisticRegression().fit(train, labels), file, protocol=5)`;

/** What mlflow.sklearn.log_model writes, with the pickle under another name to prove that MLmodel is read. */
const MLMODEL = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: estimator.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: estimator.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.2.1
mlflow_version: 2.9.2
model_uuid: 0d6c7a3b2f0e4f4c9a0a1b2c3d4e5f60
run_id: 5a1e0c2d9b8f4e7a
signature:
  inputs: '[{"type": "double", "name": "a", "required": true}, {"type": "double",
    "name": "b", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-01-15 10:22:31.512345'
`;

const PYFUNC_ONLY_MLMODEL = `flavors:
  python_function:
    cloudpickle_version: 3.0.0
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
mlflow_version: 2.9.2
`;

const LOW_HIGH = { predictions: ['low', 'high'] };

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function request(port: number, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
}

const invoke = (port: number, body: string | Uint8Array, contentType = 'application/json') =>
  request(port, '/invocations', { method: 'POST', body, headers: { 'content-type': contentType } });

describe.skipIf(!docker)('the serving image scoring server', { concurrent: true }, () => {
  const engine = docker as Dockerode;
  const instanceId = testInstanceId();
  let runtime: ContainerRuntime;
  let root: string;
  /** Published ports of the servers started in beforeAll, by model folder. */
  const ports: Record<string, number> = {};

  /** A folder under the mount root that the image's user (uid 1000) can read, with files written by the host. */
  function modelFolder(name: string, files: Record<string, string | { copyOf: string }> = {}): string {
    const folder = join(root, name);
    mkdirSync(folder, { mode: 0o755 });
    for (const [path, content] of Object.entries(files)) {
      const file = join(folder, path);
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 });
      if (typeof content === 'string') writeFileSync(file, content, { mode: 0o644 });
      else copyFileSync(content.copyOf, file);
    }
    return folder;
  }

  /** Starts the image's own command with `folder` at /model; the container id and its published port. */
  async function serve(folder: string): Promise<{ id: string; port: number }> {
    const { id } = await runtime.start({
      kind: 'deployment',
      id: workloadId(),
      project: 'serving-image-tests',
      image: SERVE_IMAGE,
      mounts: [{ hostPath: folder, containerPath: '/model', readOnly: true }],
      ports: [PORT],
    });
    const port = (await runtime.inspect(id)).ports[PORT];
    if (!port) throw new Error(`container ${id} got no published port for ${PORT}`);
    return { id, port };
  }

  /** The first /ping answer that is not "loading"; each try is bounded, as fetch can hang on a port not yet listening. */
  async function settledPing(id: string, port: number, timeoutMs = 60_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const answer = await request(port, '/ping', { signal: AbortSignal.timeout(1_000) });
        if ((answer.body as { status: string }).status !== 'loading') return answer;
      } catch {
        // not listening yet
      }
      if (!(await runtime.inspect(id)).running) break;
      await sleep(100);
    }
    const log = (await collectLines(runtime.logs(id))).map((line) => line.text).join('\n');
    throw new Error(`the scoring server in ${id} did not settle within ${timeoutMs} ms; its log:\n${log}`);
  }

  beforeAll(async () => {
    await requireImage(engine, SERVE_IMAGE);
    root = mkdtempSync(join(tmpdir(), 'trainyard-serving-'));
    runtime = createTestRuntime(engine, { instanceId, mountRoots: [root] });
    const trained = join(root, 'trained');
    mkdirSync(trained);
    chmodSync(trained, 0o777);
    const job = await runtime.start({ kind: 'job', id: workloadId(), project: 'serving-image-tests', image: SERVE_IMAGE, command: ['python3', '-c', TRAIN], outputs: { hostPath: trained } });
    const { exitCode } = await runtime.wait(job.id);
    if (exitCode !== 0) throw new Error(`training failed: ${(await collectLines(runtime.logs(job.id))).map((line) => line.text).join('\n')}`);
    const pickle = { copyOf: join(trained, 'model.pkl') };
    const folders = {
      'model.pkl': trained,
      'MLmodel naming the pickle': modelFolder('mlflow', { MLmodel: MLMODEL, 'estimator.pkl': pickle, 'conda.yaml': 'name: mlflow-env\n' }),
      'a run folder with model/': modelFolder('run', { 'model/MLmodel': MLMODEL.replaceAll('estimator.pkl', 'model.pkl'), 'model/model.pkl': pickle, 'metrics.json': '{}' }),
      'an empty folder': modelFolder('empty'),
      'MLmodel without a sklearn flavor': modelFolder('pyfunc', { MLmodel: PYFUNC_ONLY_MLMODEL, 'python_model.pkl': pickle }),
    };
    await Promise.all(
      Object.entries(folders).map(async ([name, folder]) => {
        const { id, port } = await serve(folder);
        await settledPing(id, port);
        ports[name] = port;
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await removeInstanceContainers(engine, [instanceId]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('is built from the current score.py, runs it as uid 1000 on port 8080 by default', async () => {
    const { Config: config } = await engine.getImage(SERVE_IMAGE).inspect();
    const hash = createHash('sha256').update(readFileSync(SCORE_SERVER)).digest('hex');
    expect(config.Labels?.['dev.trainyard.score-sha256'], 'the image is older than scripts/serve/score.py: run `bash scripts/python-image.sh`').toBe(hash);
    expect(config).toMatchObject({ User: '1000:1000', Cmd: ['python3', '/opt/trainyard/score.py'], ExposedPorts: { '8080/tcp': {} } });
    expect(config.Env).toContain('PORT=8080');
  });

  it.each(['model.pkl', 'MLmodel naming the pickle', 'a run folder with model/'])('serves %s: /ping and /health answer 200, /invocations predicts', async (name) => {
    const port = ports[name]!;
    for (const path of ['/ping', '/health']) {
      expect(await request(port, path)).toMatchObject({ status: 200, body: { status: 'ready' } });
    }
    expect(await invoke(port, JSON.stringify({ instances: [[0, 5], [5, 0]] }))).toMatchObject({ status: 200, body: LOW_HIGH });
  });

  it.each([
    { name: 'an empty folder', message: /^no model in \/model: expected model\.pkl or an MLmodel file/ },
    { name: 'MLmodel without a sklearn flavor', message: /^\/model\/MLmodel has no sklearn flavor \(it has python_function\)/ },
  ])('answers 503 with the reason when /model holds $name', async ({ name, message }) => {
    const port = ports[name]!;
    expect(await request(port, '/ping')).toMatchObject({ status: 503, body: { status: 'failed', message: expect.stringMatching(message) } });
    expect(await invoke(port, JSON.stringify({ instances: [[0, 5]] }))).toMatchObject({ status: 503, body: { status: 'failed', message: expect.stringMatching(message) } });
  });

  it.each([
    { format: 'dataframe_split', body: { dataframe_split: { columns: ['a', 'b'], data: [[0, 5], [5, 0]] } } },
    { format: 'dataframe_split, columns in another order', body: { dataframe_split: { columns: ['b', 'a'], data: [[5, 0], [0, 5]] } } },
    { format: 'dataframe_split with an index', body: { dataframe_split: { index: [7, 3], columns: ['a', 'b'], data: [[0, 5], [5, 0]] } } },
    { format: 'dataframe_records', body: { dataframe_records: [{ a: 0, b: 5 }, { b: 0, a: 5 }] } },
    { format: 'instances as rows', body: { instances: [[0, 5], [5, 0]] } },
    { format: 'instances as records', body: { instances: [{ a: 0, b: 5 }, { a: 5, b: 0 }] } },
    { format: 'inputs as rows', body: { inputs: [[0.0, 5.0], [5.0, 0.0]] } },
    { format: 'inputs as columns', body: { inputs: { a: [0, 5], b: [5, 0] } } },
    { format: 'params beside the input, ignored', body: { inputs: [[0, 5], [5, 0]], params: { temperature: 0.5 } } },
  ])('predicts from $format', async ({ body }) => {
    expect(await invoke(ports['model.pkl']!, JSON.stringify(body))).toMatchObject({ status: 200, body: LOW_HIGH });
  });

  it.each([
    { name: 'CSV with a header', contentType: 'text/csv', body: 'a,b\n0,5\n5,0\n' },
    { name: 'CSV in another column order, charset given', contentType: 'text/csv; charset=utf-8', body: 'b,a\r\n5,0\r\n0,5\r\n' },
    { name: 'JSON with a charset', contentType: 'application/json; charset=UTF-8', body: '{"instances": [[0, 5], [5, 0]]}' },
  ])('predicts from $name', async ({ contentType, body }) => {
    expect(await invoke(ports['model.pkl']!, body, contentType)).toMatchObject({ status: 200, body: LOW_HIGH });
  });

  it('answers with class probabilities when params ask for predict_proba, as plain JSON numbers', async () => {
    const answer = await invoke(ports['model.pkl']!, JSON.stringify({ instances: [[0, 5], [5, 0]], params: { predict_method: 'predict_proba' } }));
    expect(answer.status).toBe(200);
    const [low, high] = (answer.body as { predictions: number[][] }).predictions as [number[], number[]];
    // Classes in the model's order: ["high", "low"].
    expect(low[1]).toBeGreaterThan(0.9);
    expect(high[0]).toBeGreaterThan(0.9);
    for (const row of [low, high]) expect(row[0]! + row[1]!).toBeCloseTo(1, 9);
  });

  it.each([
    { name: 'a text/plain body', contentType: 'text/plain', body: 'a,b\n0,5', status: 415, message: /only supports the following content types: \['text\/csv', 'application\/json'\]\. Got "text\/plain"/ },
    { name: 'a form body', contentType: 'application/x-www-form-urlencoded', body: 'a=0&b=5', status: 415, message: /content types/ },
    { name: 'JSON in another charset', contentType: 'application/json; charset=latin-1', body: '{}', status: 415, message: /only UTF-8, not latin-1/ },
    { name: 'malformed JSON', body: '{"instances": [[0, 5]', status: 400, message: /^Failed to parse input from JSON/ },
    { name: 'a JSON list', body: '[[0, 5]]', status: 400, message: /exactly one of the input fields .*Received a list/ },
    { name: 'no input field', body: '{"rows": [[0, 5]]}', status: 400, message: /exactly one of the input fields .*input fields: \['rows'\]/ },
    { name: 'two input fields', body: '{"instances": [[0, 5]], "inputs": [[0, 5]]}', status: 400, message: /input fields: \['instances', 'inputs'\]/ },
    { name: 'dataframe_split without data', body: '{"dataframe_split": {"columns": ["a", "b"]}}', status: 400, message: /"dataframe_split" must be an object with "data"/ },
    { name: 'dataframe_split with rows of the wrong width', body: '{"dataframe_split": {"columns": ["a", "b"], "data": [[0, 5, 1]]}}', status: 400, message: /^Failed to read the input as a table: ValueError/ },
    { name: 'dataframe_records that are not objects', body: '{"dataframe_records": [[0, 5]]}', status: 400, message: /"dataframe_records" must be a list of objects/ },
    { name: 'instances that are not a list', body: '{"instances": "0,5"}', status: 400, message: /"instances" must be a list of rows$/ },
    { name: 'rows and records mixed', body: '{"instances": [[0, 5], {"a": 5, "b": 0}]}', status: 400, message: /mixes records \(objects\) with other values/ },
    { name: 'too many features', body: '{"instances": [[0, 5, 1]]}', status: 400, message: /X has 3 features, but LogisticRegression is expecting 2 features/ },
    { name: 'a missing column', body: '{"dataframe_records": [{"a": 0}]}', status: 400, message: /feature names should match.*missing:\n- b/s },
    { name: 'a value that is not a number', body: '{"dataframe_records": [{"a": "zero", "b": 5}]}', status: 400, message: /could not convert string to float: 'zero'/ },
    { name: 'an unknown predict_method', body: '{"instances": [[0, 5]], "params": {"predict_method": "explain"}}', status: 400, message: /"predict_method" must be one of \['predict', 'predict_proba'\], not "explain"/ },
    { name: 'params that are not an object', body: '{"instances": [[0, 5]], "params": [1]}', status: 400, message: /"params" must be an object/ },
    { name: 'an empty CSV body', contentType: 'text/csv', body: '', status: 400, message: /^Failed to read the input as CSV with a header row: EmptyDataError/ },
    { name: 'a body that is not UTF-8', body: new Uint8Array([0x7b, 0xff, 0x7d]), status: 400, message: /^the body is not UTF-8/ },
  ])('refuses $name with $status in MLflow error shape, without a traceback', async ({ contentType, body, status, message }) => {
    const answer = await invoke(ports['model.pkl']!, body, contentType);
    expect(answer).toMatchObject({ status, body: { error_code: 'BAD_REQUEST', message: expect.stringMatching(message) } });
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.text).not.toMatch(/Traceback|File "/);
  });

  it('answers 404 in MLflow error shape for an unknown path, and keeps the connection for the next request', async () => {
    const port = ports['model.pkl']!;
    expect(await request(port, '/predict', { method: 'POST', body: '{}' })).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    const answer = await request(port, '/ping');
    expect(answer.headers.get('content-length')).toBe(String(Buffer.byteLength(answer.text)));
    expect(answer.headers.get('connection')).not.toBe('close');
  });

  it('answers many requests at once', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => invoke(ports['model.pkl']!, JSON.stringify({ instances: [[0, 5], [5, 0]] }))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
  });

  it('on SIGTERM finishes the request in flight, then exits 0 within two seconds', async () => {
    const { id, port } = await serve(join(root, 'trained'));
    await settledPing(id, port);
    let sendRest!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"instances": [[0, 5], '));
        sendRest = () => {
          controller.enqueue(new TextEncoder().encode('[5, 0]]}'));
          controller.close();
        };
      },
    });
    const inFlight = request(port, '/invocations', { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    const stopped = runtime.stop(id, 10);
    while (!(await collectLines(runtime.logs(id))).some((line) => line.text.includes('SIGTERM'))) await sleep(50);
    const finishing = Date.now();
    sendRest();
    expect(await inFlight).toMatchObject({ status: 200, body: LOW_HIGH });
    await stopped;
    expect(Date.now() - finishing).toBeLessThan(2_000);
    expect((await runtime.wait(id)).exitCode).toBe(0);
  });
});
