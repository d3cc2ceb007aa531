import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../../helpers/test-app.ts';

const LIMIT = 4096;

let t: TestApp;
let server: Server;
let port: number;

beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: LIMIT });
  server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

/** A POST over a real socket: with a Content-Length header, or chunked with none, as a streaming client sends it. */
function post(path: string, body: string, framing: 'length' | 'chunked'): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Authorization: t.basic(ADMIN), 'Content-Type': 'application/json' };
    if (framing === 'length') headers['Content-Length'] = Buffer.byteLength(body);
    const outgoing = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    outgoing.on('error', reject);
    // Written in pieces so a chunked body really arrives in chunks.
    for (let at = 0; at < body.length; at += 1000) outgoing.write(body.slice(at, at + 1000));
    outgoing.end();
  });
}

const tokenBody = (nameLength: number) => JSON.stringify({ name: 'x'.repeat(nameLength) });

describe('the body limit over HTTP', () => {
  it.each([
    { name: 'a declared length within the limit is read in full', framing: 'length', body: tokenBody(80), status: 201 },
    { name: 'a chunked body within the limit is read in full', framing: 'chunked', body: tokenBody(80), status: 201 },
    { name: 'a declared length over the limit is refused', framing: 'length', body: tokenBody(LIMIT), status: 413 },
    { name: 'a chunked body over the limit is refused', framing: 'chunked', body: tokenBody(LIMIT), status: 413 },
  ] as const)('$name', async ({ framing, body, status }) => {
    const response = await post('/api/v1/tokens', body, framing);
    expect(response.status).toBe(status);
    if (status === 413) expect(response.json).toEqual({ error_code: 'REQUEST_TOO_LARGE', message: `the request body is larger than ${LIMIT} bytes` });
    else expect(response.json).toMatchObject({ name: 'x'.repeat(80), token: expect.stringMatching(/^ty_/) });
  });

  it('lets an MLflow client log a metric through it', async () => {
    const run = t.app.tracking.runs.create({ user: t.app.users.get(ADMIN.username) }, { experiment_id: '0' }).run.info.run_id;
    const point = { run_id: run, key: 'loss', value: 0.25, timestamp: 1_700_000_000_000, step: 3 };
    expect(await post('/api/2.0/mlflow/runs/log-metric', JSON.stringify(point), 'length')).toEqual({ status: 200, json: {} });
    const history = t.app.tracking.metrics.history({ user: t.app.users.get(ADMIN.username) }, { run_id: run, metric_key: 'loss' });
    expect(JSON.parse(history)).toEqual({ metrics: [{ key: 'loss', value: 0.25, timestamp: 1_700_000_000_000, step: 3 }] });
  });
});
