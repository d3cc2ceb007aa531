import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config.ts';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { gpuReading } from '../alerts/alert-fixtures.ts';

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
    const audited = () => messages.filter((message) => message.includes('#audit-rows'));
    await until(() => audited().length > 0);
    expect(audited()[0]).toMatch(/^<hx-partial hx-target="#audit-rows" hx-swap="afterbegin"><tr id="audit-\d+">/);
    expect(audited()[0]).toContain('first');

    await fetch(`${appliance.url}/logout`, { method: 'POST', headers: { Cookie: cookie }, body: new URLSearchParams({ _csrf: csrf }), redirect: 'manual' });
    recordEvent('after sign-out');
    expect(await closed).toBe(1008);
    expect(messages.join('')).not.toContain('after sign-out');
  });

  it("carries the nav's count of open alerts on every socket, and the alerts page's tables on its feed", async () => {
    const { cookie } = await signIn();
    const anyPage = await open('/live', { Cookie: cookie });
    const alertsPage = await open('/live?feeds=alerts', { Cookie: cookie });
    const badgeSaying = (inner: string) => `<hx-partial hx-target="#alert-badge" hx-swap="outerHTML">${inner}</hx-partial>`;
    const boards = () => alertsPage.messages.filter((message) => message.startsWith('<hx-partial hx-target="#alert-board"'));
    // Both fill the badge as they open, before anything has changed.
    await until(() => anyPage.messages.length > 0 && alertsPage.messages.length > 1);
    expect(anyPage.messages).toEqual([badgeSaying('<b id="alert-badge"></b>')]);
    expect(alertsPage.messages).toContain(badgeSaying('<b id="alert-badge"></b>'));
    expect(boards()).toHaveLength(1);
    expect(boards()[0]).toContain('No open alerts.');

    // A GPU the appliance's own sampler does not read: nothing but these rounds decides its alert.
    const round = (temperature: number) =>
      appliance.app.bus.publish('monitoring.sample', { at: appliance.app.now(), intervalMs: 5_000, gpus: [gpuReading('GPU-live-test', 0, { temperature })], host: null, containers: [], skipped: [] });
    round(97);
    const fired = badgeSaying('<b id="alert-badge" class="badge danger" title="1 open alert">1</b>');
    await until(() => anyPage.messages.includes(fired) && boards().length > 1);
    expect(anyPage.messages).toEqual([badgeSaying('<b id="alert-badge"></b>'), fired]);
    expect(alertsPage.messages).toContain(fired);
    expect(boards()[1]!.split('Recent history')[0]).toContain('is at 97 °C');

    round(60);
    await until(() => anyPage.messages.length > 2 && boards().length > 2);
    expect(anyPage.messages.at(-1)).toBe(badgeSaying('<b id="alert-badge"></b>'));
    expect(boards()[2]!.split('Recent history')[0]).toContain('No open alerts.');
    anyPage.socket.close();
    alertsPage.socket.close();
  });
});
