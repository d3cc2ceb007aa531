// Sampling of calls through the proxy (on a real socket, to real node:http upstreams): bodies copied as they stream,
// capped and flagged, kept in request_samples, read through the API; retention trims the oldest in batches.
import { request, type IncomingMessage } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureCall } from '../../src/serving/body-capture.ts';
import { createRequestSamples, type RequestSampleJson } from '../../src/serving/request-samples.ts';
import { ADMIN, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { addUser } from '../server/mlflow/tracking-client.ts';
import { deploy, registerVersion } from './deployment-fixtures.ts';
import { call, startEventStream, startServing, startUpstream, type Echo, type ServingHarness } from './serving-fixtures.ts';

const OUTSIDER = { username: 'olga', password: 'olga-password-1' };
const KB = 1024;
const MB = 1024 * KB;

let h: ServingHarness;
let t: TestApp;
let member: string;
let echoUrl: string;

/**
 * A deployment in the app's database (samples are kept under its id) whose calls the proxy sends to `upstream`,
 * with the sampling the API sets.
 */
async function sampled(name: string, upstream: string, settings: { sampleRate: number; sampleMaxBytes?: number }): Promise<number> {
  const created = await deploy(t.app, t.app.users.get(MEMBER.username), { name, model: 'models:/churn/1', ...settings });
  h.deploy(name, [upstream], { id: created.id, sampling: { rate: created.sampleRate, maxBytes: created.sampleMaxBytes } });
  return created.id;
}

const invoke = (name: string, body: string | Buffer, path = '/invocations') =>
  call(`${h.url}/serve/${name}${path}`, { method: 'POST', headers: { Authorization: member, 'Content-Type': 'application/json' }, body });

async function samplesOf(name: string, query = '', user = MEMBER) {
  const response = await t.request(`/api/v1/deployments/${name}/samples${query}`, { headers: { Authorization: t.basic(user) } });
  return { status: response.status, json: (await response.json()) as { samples: RequestSampleJson[]; message?: string } };
}

beforeAll(async () => {
  h = await startServing();
  t = h.t;
  await addUser(t, OUTSIDER.username, undefined);
  await registerVersion(t.app, t.app.users.get(ADMIN.username), 'churn', { 'model.pkl': 'one' });
  member = h.tokenOf(MEMBER.username);
  echoUrl = (await startUpstream()).url;
});

describe('sampling calls through the proxy', () => {
  it('keeps every call at rate 1, with both bodies, their types and sizes, the status, latency and version', async () => {
    await sampled('all', echoUrl, { sampleRate: 1 });
    for (let index = 0; index < 5; index++) expect((await invoke('all', `{"inputs": [[${index}]]}`, `/invocations?i=${index}`)).status).toBe(200);
    const { status, json } = await samplesOf('all');
    expect(status).toBe(200);
    expect(json.samples.map((sample) => sample.path)).toEqual([4, 3, 2, 1, 0].map((index) => `/invocations?i=${index}`));
    const [newest] = json.samples;
    const echo = JSON.parse(newest!.response.body) as Echo;
    expect(echo.body).toBe('{"inputs": [[4]]}');
    expect(newest).toEqual({
      id: expect.any(Number),
      at: t.clock.now,
      version: 1,
      method: 'POST',
      path: '/invocations?i=4',
      status: 200,
      latencyMs: expect.any(Number),
      request: { contentType: 'application/json', bytes: 17, truncated: false, encoding: 'utf8', body: '{"inputs": [[4]]}' },
      response: { contentType: 'application/json', bytes: Buffer.byteLength(newest!.response.body), truncated: false, encoding: 'utf8', body: expect.any(String) },
    });
    expect(newest!.latencyMs).toBeGreaterThan(0);
  });

  it('keeps none at rate 0, and about its share at a rate between', async () => {
    await sampled('none', echoUrl, { sampleRate: 0 });
    await sampled('half', echoUrl, { sampleRate: 0.5 });
    for (let index = 0; index < 200; index++) {
      await invoke('none', '{}');
      await invoke('half', '{}');
    }
    expect((await samplesOf('none')).json.samples).toEqual([]);
    // Binomial(200, 0.5): 100 ± 7; the band is over 5 standard deviations wide on each side.
    const kept = (await samplesOf('half', '?limit=1000')).json.samples.length;
    expect(kept).toBeGreaterThan(64);
    expect(kept).toBeLessThan(136);
  });

  it('keeps the first sampleMaxBytes of a 1 MB body, flagged, while the caller and the replica get it whole', async () => {
    await sampled('capped', echoUrl, { sampleRate: 1 });
    // Numbered lines, so that any chunk kept from the wrong place shows.
    const body = Buffer.from(Array.from({ length: MB / 8 }, (_, line) => `${String(line).padStart(7, '0')}\n`).join(''));
    const answer = await invoke('capped', body, '/upload');
    expect(answer.status).toBe(200);
    expect(answer.json<Echo>().body).toBe(body.toString());
    const [sample] = (await samplesOf('capped')).json.samples;
    expect(sample!.request).toEqual({ contentType: 'application/json', bytes: MB, truncated: true, encoding: 'utf8', body: body.subarray(0, 64 * KB).toString() });
    expect(sample!.response).toMatchObject({ bytes: Buffer.byteLength(answer.text), truncated: true, encoding: 'utf8' });
    expect(sample!.response.body).toBe(answer.text.slice(0, 64 * KB));
  });

  it('cuts a sampled body at the cap set for the deployment, and keeps binary bodies as base64', async () => {
    const binary = await startUpstream((incoming, outgoing) => {
      incoming.resume();
      incoming.on('end', () => outgoing.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02])));
    });
    await sampled('small', binary.url, { sampleRate: 1, sampleMaxBytes: 4 });
    expect((await invoke('small', 'héllo')).status).toBe(200);
    const [sample] = (await samplesOf('small')).json.samples;
    // h (1 byte), é (2), l (1): the second l and the o are cut.
    expect(sample!.request).toEqual({ contentType: 'application/json', bytes: 6, truncated: true, encoding: 'utf8', body: 'hél' });
    expect(sample!.response).toEqual({ contentType: 'application/octet-stream', bytes: 5, truncated: true, encoding: 'base64', body: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64') });
  });

  it('still streams a sampled response: the caller reads its first event before the replica sends the last', async () => {
    const events = await startEventStream();
    await sampled('events', events.url, { sampleRate: 1 });
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      request(`${h.url}/serve/events/v1/completions`, { method: 'POST', headers: { Authorization: member, 'Content-Type': 'application/json' }, agent: false }, resolve)
        .on('error', reject)
        .end('{"prompt": "Hi"}'),
    );
    await events.expectStreamed(response);
    await expect.poll(async () => (await samplesOf('events')).json.samples[0]?.response).toEqual({
      contentType: 'text/event-stream',
      bytes: 39,
      truncated: false,
      encoding: 'utf8',
      body: 'data: {"token":"Hello"}\n\ndata: [DONE]\n\n',
    });
  });

  it.each([
    ['a limit that is not a number', '?limit=ten', MEMBER, 400, 'limit: a whole number from 1 to 1000'],
    ['a limit of 0', '?limit=0', MEMBER, 400, 'limit: a whole number from 1 to 1000'],
    ['a limit above 1000', '?limit=1001', MEMBER, 400, 'limit: a whole number from 1 to 1000'],
    ['someone outside the project', '', OUTSIDER, 404, 'no deployment named "all"'],
  ])('GET .../samples refuses %s', async (_name, query, user, status, message) => {
    expect(await samplesOf('all', query, user)).toMatchObject({ status, json: { message } });
  });

  it('answers the newest `limit` samples', async () => {
    expect((await samplesOf('all', '?limit=2')).json.samples.map((sample) => sample.path)).toEqual(['/invocations?i=4', '/invocations?i=3']);
  });
});

describe('retention', () => {
  it("keeps each deployment's newest samples, trimming the oldest in batches", async () => {
    const [first, second] = [await sampled('kept', echoUrl, { sampleRate: 0 }), await sampled('other', echoUrl, { sampleRate: 0 })];
    const samples = createRequestSamples({ db: t.app.db, now: () => t.clock.now, log: t.app.log, keep: 5, trimEvery: 4 });
    const record = (deploymentId: number, index: number) =>
      samples.record({ deploymentId, version: 1, method: 'POST', path: `/invocations?i=${index}`, status: 200, latencyMs: 1, requestContentType: null, capture: captureCall(16) });
    for (let index = 0; index < 3; index++) record(second, index);
    const kept: number[] = [];
    for (let index = 0; index < 20; index++) {
      record(first, index);
      samples.flush();
      kept.push(samples.list(first, 100).length);
    }
    // Up to keep + trimEvery - 1 between trims, never fewer than keep once that many came.
    expect(Math.max(...kept)).toBe(8);
    expect(kept.slice(5).every((count) => count >= 5 && count <= 8)).toBe(true);
    expect(samples.list(first, 5).map((sample) => sample.path)).toEqual([19, 18, 17, 16, 15].map((index) => `/invocations?i=${index}`));
    expect(samples.list(second, 100)).toHaveLength(3);
  });
});
