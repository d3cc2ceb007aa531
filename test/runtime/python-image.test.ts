// The Python images that scripts/python-image.sh builds from Debian packages, run the way jobs and deployments run
// them: through the container runtime, with its security defaults and the host gateway.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/processes.ts';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { requireDocker } from '../helpers/environment.ts';
import { collectLines, createTestRuntime, removeInstanceContainers, requireImage, testInstanceId, workloadId } from './runtime-fixtures.ts';

const PYTHON_IMAGE = 'trainyard/python:bookworm';
const SERVE_IMAGE = 'trainyard/python-serve:bookworm';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A stand-in for the appliance's MLflow API on all host addresses: records each request, answers with JSON. */
async function startHostService(): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ seen: received.length }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

describe.skipIf(!docker)('locally built Python images', { concurrent: true }, () => {
  const engine = docker as Dockerode;
  const instanceId = testInstanceId();
  let runtime: ContainerRuntime;
  let host: Awaited<ReturnType<typeof startHostService>>;

  /** Runs `python3 -c script` in the image as a job; its exit code and output. */
  async function runPython(image: string, script: string, env: Record<string, string> = {}) {
    const { id } = await runtime.start({ kind: 'job', id: workloadId(), project: 'python-image-tests', image, command: ['python3', '-c', script], env });
    const { exitCode } = await runtime.wait(id);
    const lines = await collectLines(runtime.logs(id));
    const text = (stream: string) => lines.filter((line) => line.stream === stream).map((line) => line.text);
    return { exitCode, stdout: text('stdout'), stderr: text('stderr') };
  }

  beforeAll(async () => {
    await requireImage(engine, PYTHON_IMAGE);
    await requireImage(engine, SERVE_IMAGE);
    runtime = createTestRuntime(engine, { instanceId });
    host = await startHostService();
  });

  afterAll(async () => {
    await removeInstanceContainers(engine, [instanceId]);
    host?.server.close();
  });

  it.each([PYTHON_IMAGE, SERVE_IMAGE])('%s runs python3 as the non-root user trainyard, unbuffered and in UTF-8', async (image) => {
    const script = `
import json, os, pathlib, sys
home = pathlib.Path.home()
(home / "note.txt").write_text("ü")
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "home": str(home), "cwd": os.getcwd(),
  "python": list(sys.version_info[:2]), "encoding": sys.stdout.encoding, "unbuffered": os.environ.get("PYTHONUNBUFFERED"),
  "note": (home / "note.txt").read_text()}))`;
    const result = await runPython(image, script);
    expect(result).toMatchObject({ exitCode: 0, stderr: [] });
    expect(JSON.parse(result.stdout[0] ?? 'null')).toEqual({
      uid: 1000,
      gid: 1000,
      home: '/home/trainyard',
      cwd: '/workspace',
      python: [3, 11],
      encoding: 'utf-8',
      unbuffered: '1',
      note: 'ü',
    });
  });

  it('keeps root-only files and the system folders out of reach of the job user', async () => {
    const script = `
for action in (lambda: open("/etc/shadow").read(), lambda: open("/usr/lib/python3/dist-packages/x.py", "w")):
    try:
        action()
        print("allowed")
    except PermissionError:
        print("refused")`;
    expect(await runPython(PYTHON_IMAGE, script)).toMatchObject({ exitCode: 0, stdout: ['refused', 'refused'] });
  });

  it('reports a failing script with its exit code and traceback on stderr', async () => {
    const result = await runPython(PYTHON_IMAGE, 'import sys\nprint("before")\nraise ValueError("bad input")');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toEqual(['before']);
    expect(result.stderr[0]).toBe('Traceback (most recent call last):');
    expect(result.stderr.at(-1)).toBe('ValueError: bad input');
  });

  it('reaches a service on the host through host.docker.internal, as jobs reach the MLflow API', async () => {
    const script = `
import json, os, urllib.request
request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric",
  data=json.dumps({"key": "loss", "value": 0.25}).encode(), method="POST",
  headers={"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=5) as response:
    print(response.status, response.read().decode())`;
    const env = { MLFLOW_TRACKING_URI: `http://host.docker.internal:${host.port}`, MLFLOW_TRACKING_TOKEN: 'run-token-1' };
    const result = await runPython(PYTHON_IMAGE, script, env);
    expect(result).toMatchObject({ exitCode: 0, stderr: [] });
    expect(result.stdout).toHaveLength(1);
    expect(result.stdout[0]).toMatch(/^200 \{"seen":\d+\}$/);
    expect(host.received).toContainEqual({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/log-metric',
      authorization: 'Bearer run-token-1',
      body: '{"key": "loss", "value": 0.25}',
    });
  });

  it('fails fast, without hanging, when nothing listens on the host port', async () => {
    const script = `
import os, urllib.error, urllib.request
try:
    urllib.request.urlopen(os.environ["URL"], timeout=5)
except urllib.error.URLError as error:
    print(type(error.reason).__name__)`;
    const result = await runPython(PYTHON_IMAGE, script, { URL: `http://host.docker.internal:${await freePort('0.0.0.0')}/` });
    expect(result).toMatchObject({ exitCode: 0, stdout: ['ConnectionRefusedError'] });
  });

  it('trusts the Debian CA bundle for HTTPS', async () => {
    const result = await runPython(PYTHON_IMAGE, 'import ssl\nprint(ssl.create_default_context().cert_store_stats()["x509_ca"] > 100)');
    expect(result).toMatchObject({ exitCode: 0, stdout: ['True'] });
  });

  it('the serving image fits a scikit-learn model on a DataFrame, pickles it, and predicts from the pickle', async () => {
    const script = `
import json, pathlib, pickle
import pandas as pd, sklearn
from sklearn.linear_model import LogisticRegression
train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "label": [0, 0, 0, 1, 1, 1]})
path = pathlib.Path.home() / "model.pkl"
path.write_bytes(pickle.dumps(LogisticRegression().fit(train[["x"]], train["label"])))
model = pickle.loads(path.read_bytes())
print(json.dumps({"sklearn": sklearn.__version__, "features": list(model.feature_names_in_),
  "predictions": model.predict(pd.DataFrame({"x": [0.5, 4.5]})).tolist()}))`;
    const result = await runPython(SERVE_IMAGE, script);
    expect(result).toMatchObject({ exitCode: 0, stderr: [] });
    expect(JSON.parse(result.stdout[0] ?? 'null')).toEqual({ sklearn: expect.stringMatching(/^1\.2\./), features: ['x'], predictions: [0, 1] });
  });

  it('keeps the Pythran compiler and its toolchain out of the serving image', async () => {
    const result = await runPython(SERVE_IMAGE, 'import shutil, importlib.util\nprint(importlib.util.find_spec("pythran"), shutil.which("g++"), shutil.which("cc"))');
    expect(result).toMatchObject({ exitCode: 0, stdout: ['None None None'] });
  });
});
