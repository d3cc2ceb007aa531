import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN } from '../helpers/test-app.ts';
import { call, refusingUrl, startEventStream, startServing, startUpstream, type Echo, type ServingHarness, type Upstream } from './serving-fixtures.ts';

let h: ServingHarness;
let echo: Upstream;
let admin: string;

beforeAll(async () => {
  h = await startServing({ responseTimeoutMs: 300 });
  echo = await startUpstream();
  h.deploy('churn', [echo.url]);
  h.deploy('llm', [echo.url]);
  admin = h.tokenOf(ADMIN.username);
});

const serve = (path: string, init: Parameters<typeof call>[1] = {}) =>
  call(`${h.url}${path}`, { ...init, headers: { Authorization: admin, ...init.headers } });

describe('routing', () => {
  it.each([
    ['/serve/churn/invocations', '/invocations'],
    ['/serve/llm/v1/chat/completions', '/v1/chat/completions'],
    ['/serve/churn/invocations?format=json&x=%2F', '/invocations?format=json&x=%2F'],
    ['/serve/churn/v2/models/a%2Fb/infer', '/v2/models/a%2Fb/infer'],
    ['/serve/churn/ping/', '/ping/'],
    ['/serve/churn', '/'],
    ['/serve/churn?x=1', '/?x=1'],
  ])('%s reaches the replica as %s', async (path, upstreamPath) => {
    const answer = await serve(path);
    expect(answer.status).toBe(200);
    expect(answer.json<Echo>().url).toBe(upstreamPath);
  });

  it('passes the method, the body and the replica status and headers through', async () => {
    const answer = await serve('/serve/churn/invocations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"inputs":[[1,2]]}' });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-upstream']).toBe(echo.url);
    expect(answer.json<Echo>()).toMatchObject({ method: 'POST', body: '{"inputs":[[1,2]]}', headers: { 'content-type': 'application/json' } });
    const teapot = await startUpstream((_incoming, outgoing) => {
      outgoing.writeHead(418, 'Short And Stout', { 'Content-Type': 'text/plain' });
      outgoing.end('no coffee');
    });
    h.deploy('teapot', [teapot.url]);
    const refused = await serve('/serve/teapot/brew', { method: 'DELETE' });
    expect([refused.status, refused.text, refused.headers['content-type']]).toEqual([418, 'no coffee', 'text/plain']);
  });

  it('answers HEAD with the headers alone', async () => {
    const answer = await serve('/serve/churn/ping', { method: 'HEAD' });
    expect([answer.status, answer.text, answer.headers['content-type']]).toEqual([200, '', 'application/json']);
  });

  it('keeps the path of a replica URL that has one', async () => {
    h.deploy('prefixed', [`${echo.url}/v1/models/churn/`]);
    expect((await serve('/serve/prefixed/predict?x=1')).json<Echo>().url).toBe('/v1/models/churn/predict?x=1');
  });

  it('sends an empty POST as one of length zero', async () => {
    expect((await serve('/serve/churn/invocations', { method: 'POST' })).json<Echo>().headers['content-length']).toBe('0');
  });
});

describe('headers', () => {
  it("drops hop-by-hop headers and the caller's credentials, and says who called", async () => {
    const answer = await serve('/serve/churn/invocations', {
      headers: {
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'only for the next hop',
        'Keep-Alive': 'timeout=5',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        TE: 'trailers',
        Cookie: 'theme=dark; trainyard_session=secret-session; lang=en',
        'X-Forwarded-For': '6.6.6.6',
        'X-Custom': 'kept',
        Host: 'gpu-box.example:8700',
      },
    });
    const { headers } = answer.json<Echo>();
    for (const name of ['x-hop', 'keep-alive', 'proxy-authorization', 'te', 'authorization']) expect(headers).not.toHaveProperty(name);
    expect(headers).toMatchObject({
      host: new URL(echo.url).host,
      cookie: 'theme=dark; lang=en',
      'x-custom': 'kept',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gpu-box.example:8700',
    });
  });

  it('extends the forwarding headers of a proxy the appliance trusts', async () => {
    const behindProxy = await startServing({ trustProxy: true });
    behindProxy.deploy('churn', [echo.url]);
    const answer = await call(`${behindProxy.url}/serve/churn/`, {
      headers: { Authorization: behindProxy.tokenOf(ADMIN.username), 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'models.example' },
    });
    expect(answer.json<Echo>().headers).toMatchObject({ 'x-forwarded-for': '203.0.113.7, 127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'models.example' });
  });

  it('drops the cookie header when only the session cookie was in it', async () => {
    const { headers } = (await serve('/serve/churn/', { headers: { Cookie: 'trainyard_session=secret-session' } })).json<Echo>();
    expect(headers).not.toHaveProperty('cookie');
  });

  it("drops the replica's hop-by-hop headers and keeps its own", async () => {
    const chatty = await startUpstream((_incoming, outgoing) => {
      outgoing.writeHead(200, { Connection: 'keep-alive, X-Internal', 'X-Internal': 'hop', 'Keep-Alive': 'timeout=99', 'X-Model-Version': '3' });
      outgoing.end('ok');
    });
    h.deploy('chatty', [chatty.url]);
    const answer = await serve('/serve/chatty/');
    expect(answer.headers).toMatchObject({ 'x-model-version': '3' });
    expect(answer.headers).not.toHaveProperty('x-internal');
    expect(answer.headers['keep-alive']).not.toBe('timeout=99');
  });
});

/** Reads the response's chunks as they come; each is handed to `onChunk`. */
function streamed(path: string, init: { method?: string; body?: AsyncIterable<Buffer> } = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const sent = request(`${h.url}${path}`, { method: init.method ?? 'GET', headers: { Authorization: admin }, agent: false }, resolve);
    sent.on('error', reject);
    if (!init.body) return sent.end();
    (async () => {
      for await (const chunk of init.body!) if (!sent.write(chunk)) await once(sent, 'drain');
      sent.end();
    })().catch(reject);
  });
}

describe('streaming', () => {
  it('passes server-sent events on as the replica sends them, before it ends', async () => {
    const events = await startEventStream();
    h.deploy('events', [events.url]);
    const response = await streamed('/serve/events/v1/completions');
    expect(response.headers['content-type']).toBe('text/event-stream');
    await events.expectStreamed(response);
  });

  const MB = 1024 * 1024;
  const SIZE = 64 * MB;

  it('streams a large upload: the replica reads its start before the caller has sent the rest', async () => {
    let firstSeen!: () => void;
    const seen = new Promise<void>((resolve) => (firstSeen = resolve));
    const sink = await startUpstream((incoming, outgoing) => {
      let bytes = 0;
      incoming.on('data', (chunk: Buffer) => {
        if (bytes === 0) firstSeen();
        bytes += chunk.length;
      });
      incoming.on('end', () => outgoing.end(JSON.stringify({ bytes })));
    });
    h.deploy('sink', [sink.url]);
    async function* body() {
      yield Buffer.alloc(MB, 1);
      await seen;
      for (let sent = MB; sent < SIZE; sent += MB) yield Buffer.alloc(MB, 2);
    }
    const response = await streamed('/serve/sink/upload', { method: 'PUT', body: body() });
    let text = '';
    for await (const chunk of response) text += chunk;
    expect(JSON.parse(text)).toEqual({ bytes: SIZE });
  });

  it('streams a large download: the caller reads its start before the replica has sent the rest', async () => {
    let firstRead!: () => void;
    const read = new Promise<void>((resolve) => (firstRead = resolve));
    const source = await startUpstream(async (_incoming, outgoing) => {
      outgoing.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': SIZE });
      outgoing.write(Buffer.alloc(MB, 1));
      await read;
      for (let sent = MB; sent < SIZE; sent += MB) if (!outgoing.write(Buffer.alloc(MB, 2))) await once(outgoing, 'drain');
      outgoing.end();
    });
    h.deploy('source', [source.url]);
    const response = await streamed('/serve/source/weights');
    expect(response.headers['content-length']).toBe(String(SIZE));
    let bytes = 0;
    for await (const chunk of response) {
      if (bytes === 0) firstRead();
      bytes += (chunk as Buffer).length;
    }
    expect(bytes).toBe(SIZE);
  });
});

describe('load balancing', () => {
  it('takes turns over replicas that are equally busy', async () => {
    const [a, b] = [await startUpstream(), await startUpstream()];
    h.deploy('pair', [a.url, b.url]);
    for (let index = 0; index < 10; index++) expect((await serve('/serve/pair/')).status).toBe(200);
    expect([a.calls, b.calls]).toEqual([5, 5]);
  });

  it('sends a call to the replica with the fewest calls in flight', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const busy = await startUpstream(async (_incoming, outgoing) => {
      await released;
      outgoing.end('slow');
    });
    const idle = await startUpstream();
    h.deploy('busy', [busy.url, idle.url]);
    const slow = serve('/serve/busy/');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(busy.calls + idle.calls).toBe(1);
    const first = busy.calls === 1 ? busy : idle;
    for (let index = 0; index < 4; index++) await serve('/serve/busy/');
    release();
    expect((await slow).status).toBe(200);
    expect(first === busy ? [busy.calls, idle.calls] : [idle.calls, busy.calls]).toEqual([1, 4]);
  });

  it('tries another replica when one refuses the connection, and the caller never knows', async () => {
    const alive = await startUpstream();
    h.deploy('half', [await refusingUrl(), alive.url]);
    const answers = await Promise.all(Array.from({ length: 6 }, () => serve('/serve/half/invocations', { method: 'POST', body: '{}' })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(alive.calls).toBe(6);
  });
});

describe('failures', () => {
  it.each([
    ['no ready replica', () => Promise.resolve([] as string[]), 503, 'deployment "{name}" has no ready replica'],
    ['a replica that refuses connections', async () => [await refusingUrl()], 502, 'deployment "{name}": the replica refused the connection'],
    [
      'a replica that resets the connection',
      async () => [(await startUpstream((incoming) => incoming.socket.destroy())).url],
      502,
      'deployment "{name}": the replica closed the connection before answering',
    ],
    ['a replica at an address the proxy cannot use', () => Promise.resolve(['https://127.0.0.1:1']), 502, 'deployment "{name}" has a replica at an address the proxy cannot use: https://127.0.0.1:1'],
    ['a replica that never answers', async () => [(await startUpstream(() => undefined)).url], 504, 'deployment "{name}": the replica did not answer within 0.3 s'],
    [
      'a replica that sends garbage',
      async () => [(await startUpstream((incoming) => incoming.socket.end('NOT HTTP\r\n\r\n'))).url],
      502,
      'deployment "{name}": the replica sent a malformed response',
    ],
  ])('%s: a JSON error', async (what, upstreams, status, message) => {
    const name = what.replaceAll(' ', '-');
    h.deploy(name, await upstreams());
    const answer = await serve(`/serve/${name}/invocations`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json()).toEqual({ error: message.replace('{name}', name) });
  });

  it('retries a call without a body when the replica drops the kept-alive connection it arrived on; one with a body fails', async () => {
    const served = new WeakSet<object>();
    const dropsReused = await startUpstream((incoming, outgoing) => {
      if (served.has(incoming.socket)) return incoming.socket.destroy();
      served.add(incoming.socket);
      incoming.resume();
      incoming.on('end', () => outgoing.end('fresh'));
    });
    h.deploy('drops-reused', [dropsReused.url]);
    expect((await serve('/serve/drops-reused/')).text).toBe('fresh');
    expect((await serve('/serve/drops-reused/')).text).toBe('fresh');
    const withBody = await serve('/serve/drops-reused/invocations', { method: 'POST', body: '{}' });
    expect([withBody.status, withBody.json()]).toEqual([502, { error: 'deployment "drops-reused": the replica closed the connection before answering' }]);
    expect(dropsReused.calls).toBe(4);
  });

  it('other deployments keep serving while one hangs', async () => {
    const hanging = await startUpstream(() => undefined);
    h.deploy('stuck', [hanging.url]);
    const stuck = serve('/serve/stuck/invocations');
    const startedAt = performance.now();
    expect((await serve('/serve/churn/invocations')).status).toBe(200);
    expect(performance.now() - startedAt).toBeLessThan(250);
    expect((await stuck).status).toBe(504);
  });

  it('cuts the response off when the replica dies halfway through its body', async () => {
    const dying = await startUpstream((_incoming, outgoing) => {
      outgoing.writeHead(200, { 'Content-Length': 1000 });
      outgoing.write('x'.repeat(100), () => outgoing.destroy());
    });
    h.deploy('dying', [dying.url]);
    const response = await streamed('/serve/dying/');
    expect(response.statusCode).toBe(200);
    await expect(async () => {
      for await (const _chunk of response);
    }).rejects.toThrow();
    await vi.waitFor(() => expect(h.metrics.of('dying').statusClasses['5xx']).toBe(1));
  });

  it('stops the call to the replica when the caller hangs up', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    const slow = await startUpstream((incoming) => incoming.socket.once('close', closed));
    h.deploy('abandoned', [slow.url]);
    const sent = request(`${h.url}/serve/abandoned/`, { headers: { Authorization: admin }, agent: false });
    sent.on('error', () => undefined);
    sent.end();
    await vi.waitFor(() => expect(slow.calls).toBe(1));
    const hungUpAt = performance.now();
    sent.destroy();
    await upstreamClosed;
    // Well before the proxy's own 0.3 s wait for an answer would have ended it.
    expect(performance.now() - hungUpAt).toBeLessThan(200);
    await vi.waitFor(() => expect(h.metrics.of('abandoned').statusClasses['4xx']).toBe(1));
  });
});

describe('metrics', () => {
  it('counts calls per deployment by status class, with their latency', async () => {
    const ok = await startUpstream();
    h.deploy('counted', [ok.url]);
    for (let index = 0; index < 3; index++) await serve('/serve/counted/invocations');
    h.deploy('counted', []);
    await serve('/serve/counted/invocations');
    const metrics = h.metrics.of('counted');
    expect(metrics.requests).toBe(4);
    expect(metrics.statusClasses).toEqual({ '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 1 });
    expect(metrics.latency.buckets.at(-1)).toEqual({ le: '+Inf', count: 4 });
    expect(metrics.latency.p50).toBeGreaterThan(0);
    expect(metrics.ratePerSecond).toBeCloseTo(4 / 60);
    expect(h.metrics.of('churn').requests).toBeGreaterThan(0);
  });
});
