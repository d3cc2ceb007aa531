import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config.ts';
import { startAppliance, type Appliance } from '../../src/appliance.ts';

const ADMIN = { username: 'admin', password: 'live-admin-pw' };
let appliance: Appliance;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-live-'));
  appliance = await startAppliance(loadConfig({ dataDir, port: 0, logLevel: 'silent', adminPassword: ADMIN.password }, {}));
});
afterAll(async () => appliance?.close());

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${appliance.url}/login`, { method: 'POST', body: new URLSearchParams(ADMIN), redirect: 'manual' });
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${appliance.url}/settings/tokens`, { headers: { Cookie: cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

function open(path: string, headers: Record<string, string>): Promise<{ socket: WebSocket; messages: string[]; closed: Promise<number> }> {
  const socket = new WebSocket(`${appliance.url.replace('http', 'ws')}${path}`, { headers });
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages, closed }));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
  });
}

const recordEvent = (target: string) => appliance.app.audit.record({ actor: 'test', action: 'test.event', target });
const until = async (check: () => boolean) => {
  for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('live channel', () => {
  it('refuses anonymous sockets and unknown feeds', async () => {
    await expect(open('/live?feeds=audit', {})).rejects.toThrow('upgrade refused: 302');
    const { cookie } = await signIn();
    await expect(open('/live?feeds=weather', { Cookie: cookie })).rejects.toThrow('upgrade refused: 400');
  });

  it('pushes audit events as hx-partial fragments, and stops when the session ends', async () => {
    const { cookie, csrf } = await signIn();
    const { messages, closed } = await open('/live?feeds=audit', { Cookie: cookie });
    recordEvent('first');
    await until(() => messages.length > 0);
    expect(messages[0]).toMatch(/^<hx-partial hx-target="#audit-rows" hx-swap="afterbegin"><tr id="audit-\d+">/);
    expect(messages[0]).toContain('first');

    await fetch(`${appliance.url}/logout`, { method: 'POST', headers: { Cookie: cookie }, body: new URLSearchParams({ _csrf: csrf }), redirect: 'manual' });
    recordEvent('after sign-out');
    expect(await closed).toBe(1008);
    expect(messages.join('')).not.toContain('after sign-out');
  });
});
