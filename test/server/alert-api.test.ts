import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { runScenarios } from '../helpers/scenarios.ts';
import { gpuReading, publishSample, submitJob } from '../alerts/alert-fixtures.ts';
import { addUser } from './mlflow/tracking-client.ts';

type User = { username: string; password: string };
const OUTSIDER: User = { username: 'olga', password: 'olga-password-1' };
const MEMBER_BASIC = `Basic ${Buffer.from(`${MEMBER.username}:${MEMBER.password}`).toString('base64')}`;
let t: TestApp;
const ids: Record<'hot' | 'secretQueued' | 'memberQueued', number> = { hot: 0, secretQueued: 0, memberQueued: 0 };

async function alertsAs(user: User, query = '') {
  const { status, text } = await t.get(`/api/v1/alerts${query}`, user);
  expect(status, text).toBe(200);
  return (JSON.parse(text) as { alerts: Array<{ id: number; project: string | null; state: string }> }).alerts;
}

/** A hot GPU (machine-wide), a job queued too long in `secret` (admins only) and one in `default` that then started. */
beforeAll(async () => {
  t = await createTestApp();
  await addUser(t, OUTSIDER.username, undefined);
  t.app.projects.create({ name: 'secret' }, { actor: 'test' });
  t.app.alerts.start();
  const secret = submitJob(t, ADMIN.username, { project: 'secret', name: 'hidden-training' });
  const member = submitJob(t, MEMBER.username, { name: 'visible-training' });
  t.clock.advance(61 * 60_000);
  const [gpu] = (await t.app.gpus.list()).devices;
  publishSample(t, { gpus: [gpuReading(gpu!.uuid, 0, { temperature: 95 })] });
  t.app.jobs.cancel(t.app.users.get(MEMBER.username), member.id);
  t.clock.advance(60_000);
  publishSample(t, { gpus: [gpuReading(gpu!.uuid, 0, { temperature: 95 })] });
  for (const alert of t.app.alerts.list(t.app.users.get(ADMIN.username), { state: 'all', limit: 10 })) {
    if (alert.rule === 'gpu-temperature') ids.hot = alert.id;
    else if (alert.subject === `job-${secret.id}`) ids.secretQueued = alert.id;
    else ids.memberQueued = alert.id;
  }
});

describe('GET /api/v1/alerts', () => {
  runScenarios(() => t, [
    { name: 'needs a credential', path: '/api/v1/alerts', status: 401, json: { error_code: 'UNAUTHENTICATED' } },
    ...[
      ['?state=closed', 'state: use open, resolved or all'],
      ['?state=', 'state: use open, resolved or all'],
      ['?limit=0', 'limit: a number of alerts from 1 to 1000'],
      ['?limit=1001', 'limit: a number of alerts from 1 to 1000'],
      ['?limit=ten', 'limit: a number of alerts from 1 to 1000'],
      ['?limit=2.5', 'limit: a number of alerts from 1 to 1000'],
    ].map(([query, message]) => ({
      name: `answers 400 to ${query}`,
      path: `/api/v1/alerts${query}`,
      headers: { Authorization: MEMBER_BASIC },
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE', message },
    })),
  ]);

  it('answers the open alerts by default, in the shape the page and CLI read', async () => {
    expect(await alertsAs(MEMBER)).toEqual([{
      id: ids.hot,
      rule: 'gpu-temperature',
      subject: expect.stringMatching(/^GPU-/),
      severity: 'critical',
      state: 'open',
      project: null,
      message: 'GPU 0 (NVIDIA H100 80GB (simulated)) is at 95 °C, at or above the limit of 85 °C',
      details: expect.objectContaining({ temperature: 95, limit: 85, gpuIndex: 0 }),
      firedAt: t.clock.now - 60_000,
      resolvedAt: null,
    }]);
  });

  it.each([
    ['a member', MEMBER, { open: ['hot'], resolved: ['memberQueued'], all: ['hot', 'memberQueued'] }],
    ['a site admin', ADMIN, { open: ['secretQueued', 'hot'], resolved: ['memberQueued'], all: ['secretQueued', 'hot', 'memberQueued'] }],
    ['a user of no project', OUTSIDER, { open: ['hot'], resolved: [], all: ['hot'] }],
  ] as const)('shows %s the machine-wide alerts and those of the projects they see, open first', async (_who, user, expected) => {
    for (const state of ['open', 'resolved', 'all'] as const) {
      expect((await alertsAs(user, `?state=${state}`)).map((alert) => alert.id), state).toEqual(expected[state].map((name) => ids[name]));
    }
  });

  it('names the project of an alert about a job, and keeps to the limit', async () => {
    const [first, ...rest] = await alertsAs(ADMIN, '?state=all&limit=1');
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ id: ids.secretQueued, project: 'secret', state: 'open', message: expect.stringContaining('"hidden-training" has waited in the queue') });
    expect((await alertsAs(MEMBER, '?state=resolved'))[0]).toMatchObject({ project: 'default', state: 'resolved', resolvedAt: t.clock.now });
  });
});
