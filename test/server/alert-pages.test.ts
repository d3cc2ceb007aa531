import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/auth/credentials.ts';
import { alertBadgeFeed, liveFeeds } from '../../src/server/live.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { HOST, gpuReading, publishSample, submitJob } from '../alerts/alert-fixtures.ts';

let t: TestApp;
let gpuUuid: string;
let hotGpu: (temperature: number) => void;
const FULL_DISK = { ...HOST, diskUsed: 0.95 * HOST.diskTotal };

/** A hot GPU (machine-wide), a job queued too long in `secret` (admins only) and one in `default` that then started. */
beforeAll(async () => {
  t = await createTestApp();
  t.app.projects.create({ name: 'secret' }, { actor: 'test' });
  t.app.alerts.start();
  gpuUuid = (await t.app.gpus.list()).devices[0]!.uuid;
  hotGpu = (temperature) => void publishSample(t, { gpus: [gpuReading(gpuUuid, 0, { temperature })] });
  submitJob(t, ADMIN.username, { project: 'secret', name: 'hidden-training' });
  const member = submitJob(t, MEMBER.username, { name: 'visible-training' });
  t.clock.advance(61 * 60_000);
  hotGpu(95);
  t.app.jobs.move(member.id, 'queued', 'starting', 'placed');
  t.clock.advance(60_000);
  hotGpu(95);
});

const rowIds = (text: string) => [...text.matchAll(/<tr id="alert-(\d+)">/g)].map((match) => Number(match[1]));

describe('the alerts page', () => {
  it('lists the open alerts the viewer may see, then the resolved ones, with links to what they are about', async () => {
    const { status, text } = await t.get('/alerts', MEMBER);
    expect(status).toBe(200);
    const [open, history] = text.split('Recent history');
    expect(open).toContain('is at 95 °C, at or above the limit of 85 °C');
    expect(open).toContain('<span class="badge danger">critical</span>');
    expect(open).toMatch(/<a href="\/gpus#gpu-GPU-[^"]+">GPU 0<\/a>/);
    expect(history).toContain('&quot;visible-training&quot; has waited in the queue');
    expect(history).toMatch(/<a href="\/jobs\/\d+">job \d+<\/a>/);
    expect(text).not.toContain('hidden-training');
    expect(text).toMatch(/<a href="\/alerts" class="active">Alerts/);
    expect(rowIds(text)).toHaveLength(2);
  });

  it("shows a site admin every project's alerts", async () => {
    const { text } = await t.get('/alerts', ADMIN);
    expect(text).toContain('hidden-training');
    expect(rowIds(text)).toHaveLength(3);
  });

  it('is kept current by the alerts feed, not by asking again', async () => {
    const { text } = await t.get('/alerts', MEMBER);
    expect(text).toContain('<main class="page" hx-ws:connect="/live?feeds=alerts">');
    expect(text).toContain('<div id="alert-board">');
    expect(text).not.toContain('hx-trigger="every');
  });

  it('sends a caller without a credential to sign in', async () => {
    expect((await t.request('/alerts')).status).toBe(302);
  });
});

describe('the count of open alerts in the nav', () => {
  it('is an empty slot on every page, which the live socket every page opens fills', async () => {
    const slot = '<a href="/alerts" class="">Alerts <b id="alert-badge"></b></a>';
    for (const [path, connect] of [
      ['/jobs', '/live?feeds=jobs:'],
      ['/experiments', '/live'],
    ]) {
      const { text } = await t.get(path!, MEMBER);
      expect(text, path).toContain(slot);
      expect(text, path).toContain(`<main class="page" hx-ws:connect="${connect}">`);
    }
    expect((await t.get('/experiments', MEMBER)).text).not.toContain('id="live-dot"');
  });
});

describe('live updates', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  /** Subscribes `username` to the alerts page's feed, or the badge every socket carries; what it pushes, rendered. */
  function watch(username: string, feed: 'alerts' | 'badge') {
    const principal: Principal = { user: t.app.users.get(username), via: 'session', scope: 'write', csrfToken: 'csrf-token' };
    const renders: Array<() => unknown> = [];
    const subscribe = feed === 'badge' ? alertBadgeFeed(t.app) : liveFeeds(t.app).alerts!;
    const stop = subscribe(principal, undefined)((render) => renders.push(render));
    return {
      stop,
      /** Lets the feed's timers run; the fragments pushed so far, rendered, and forgets them. */
      async pushed(ms = 300) {
        await vi.advanceTimersByTimeAsync(ms);
        return Promise.all(renders.splice(0).map(async (render) => String(await render())));
      },
    };
  }
  const badge = (inner: string) => `<hx-partial hx-target="#alert-badge" hx-swap="outerHTML">${inner}</hx-partial>`;
  const coolGpu = () => gpuReading(gpuUuid, 0, { temperature: 60 });
  /** An admin's job in `secret` that has waited past the limit: its alert is for admins only. */
  function hiddenAlertFires() {
    submitJob(t, ADMIN.username, { project: 'secret', name: 'another-hidden' });
    t.clock.advance(61 * 60_000);
    publishSample(t);
  }

  it('sends the count when the socket opens, and again once for a burst of changes the viewer may see', async () => {
    const member = watch(MEMBER.username, 'badge');
    const admin = watch(ADMIN.username, 'badge');
    expect(await member.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="1 open alert">1</b>')]);
    expect(await admin.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="2 open alerts">2</b>')]);

    hiddenAlertFires();
    expect(await member.pushed()).toEqual([]);
    expect(await admin.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="3 open alerts">3</b>')]);

    // One round resolves the hot GPU and fires the full disk: one message.
    publishSample(t, { gpus: [coolGpu()], host: FULL_DISK });
    expect(await member.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="1 open alert">1</b>')]);
    expect(await admin.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="3 open alerts">3</b>')]);
    publishSample(t, { gpus: [coolGpu()] });
    expect(await member.pushed()).toEqual([badge('<b id="alert-badge"></b>')]);
    expect(await admin.pushed()).toEqual([badge('<b id="alert-badge" class="badge danger" title="2 open alerts">2</b>')]);

    member.stop();
    hotGpu(95);
    expect(await member.pushed()).toEqual([]);
    admin.stop();
  });

  it("sends the page's tables again when an alert the viewer may see fires or resolves", async () => {
    hotGpu(95);
    const feed = watch(MEMBER.username, 'alerts');
    const [opened, ...more] = await feed.pushed();
    expect(more).toEqual([]);
    expect(opened!.startsWith('<hx-partial hx-target="#alert-board" hx-swap="outerHTML"><div id="alert-board">')).toBe(true);
    expect(opened!.split('Recent history')[0]).toContain('is at 95 °C');

    hiddenAlertFires();
    expect(await feed.pushed()).toEqual([]);

    hotGpu(60);
    const [tables, ...again] = await feed.pushed();
    expect(again).toEqual([]);
    const [open, history] = tables!.split('Recent history');
    expect(open).toContain('No open alerts.');
    expect(history).toContain('is at 95 °C');
    expect(tables).not.toContain('hidden');
    feed.stop();
  });
});
