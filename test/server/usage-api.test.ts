import { beforeAll, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../src/accounting/usage-report.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { runScenarios } from '../helpers/scenarios.ts';
import { recordSomeUsage } from '../accounting/usage-fixtures.ts';
import { addUser } from './mlflow/tracking-client.ts';

type User = { username: string; password: string };

let t: TestApp;
/** A viewer of the default project, with no jobs of their own (addUser gives them this password). */
const VIEWER: User = { username: 'val', password: 'val-password-1' };
const RANGE = 'from=2026-11-22&to=2026-11-23';

beforeAll(async () => {
  t = await createTestApp();
  await addUser(t, VIEWER.username, 'viewer');
  await recordSomeUsage(t, { member: MEMBER.username, admin: ADMIN.username });
});

async function report(path: string, user: User): Promise<UsageReport> {
  const { status, text } = await t.get(path, user);
  expect(status, text).toBe(200);
  return JSON.parse(text) as UsageReport;
}
const groups = (answer: UsageReport) => answer.groups.map((group) => [group.name, group.total.allocatedGpuHours]);

describe('GET /api/v1/usage refuses what it cannot answer', () => {
  const ADMIN_BASIC = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
  const refused = (name: string, query: string, message: string) => ({
    name,
    path: `/api/v1/usage?${query}`,
    headers: { Authorization: ADMIN_BASIC },
    status: 400,
    json: { error_code: 'INVALID_PARAMETER_VALUE', message },
  });
  runScenarios(() => t, [
    refused('a day that does not exist', 'from=2026-02-30', 'from: write a day as YYYY-MM-DD, like 2026-11-22; got "2026-02-30"'),
    refused('a day in another format', 'to=22.11.2026', 'to: write a day as YYYY-MM-DD, like 2026-11-22; got "22.11.2026"'),
    refused('from after to', 'from=2026-11-23&to=2026-11-22', 'from (2026-11-23) is after to (2026-11-22)'),
    refused('a range over 366 days', 'from=2024-01-01&to=2026-11-22', 'from 2024-01-01 to 2026-11-22 is 1057 days; a report covers at most 366'),
    refused('an unknown grouping', 'by=team', 'by: one of project, user, day; got "team"'),
    refused('an unknown parameter', 'project=vision', 'unknown field project'),
    { name: 'an anonymous caller', path: `/api/v1/usage?${RANGE}`, status: 401 },
  ]);
});

describe('GET /api/v1/usage', () => {
  it('answers the report: groups with their days and totals', async () => {
    const answer = await report(`/api/v1/usage?${RANGE}`, ADMIN);
    expect(answer).toMatchObject({ from: '2026-11-22', to: '2026-11-23', by: 'project', timeZone: 'UTC' });
    expect(answer.groups[0]).toEqual({
      name: 'default',
      days: [
        { day: '2026-11-22', allocatedGpuHours: 1, usedGpuHours: 0.25, measuredGpuHours: 0.5, utilization: 0.5, cpuHours: 1, memoryGibHours: 2, jobs: 1 },
        { day: '2026-11-23', allocatedGpuHours: 1.5, usedGpuHours: 0.25, measuredGpuHours: 0.5, utilization: 0.5, cpuHours: 1, memoryGibHours: 2, jobs: 1 },
      ],
      total: { allocatedGpuHours: 2.5, usedGpuHours: 0.5, measuredGpuHours: 1, utilization: 0.5, cpuHours: 2, memoryGibHours: 4, jobs: 1 },
    });
    expect(groups(answer)).toEqual([['default', 2.5], ['vision', 0.75]]);
  });

  it('defaults to the last 7 days up to today (UTC), by project', async () => {
    const answer = await report('/api/v1/usage', ADMIN);
    expect(answer).toMatchObject({ from: '2026-11-17', to: '2026-11-23', by: 'project' });
    expect(groups(answer)).toEqual([['default', 2.5], ['vision', 0.75]]);
  });

  it.each([
    ['an admin sees every project', ADMIN, 'project', [['default', 2.5], ['vision', 0.75]]],
    ['an admin sees every user', ADMIN, 'user', [[MEMBER.username, 2.5], [ADMIN.username, 0.75]]],
    ['a member sees the projects they belong to', MEMBER, 'project', [['default', 2.5]]],
    ['a member sees only their own usage by user', MEMBER, 'user', [[MEMBER.username, 2.5]]],
    ['a member sees their projects\' days', MEMBER, 'day', [['all', 2.5]]],
    ['a viewer of a project sees the project', VIEWER, 'project', [['default', 2.5]]],
    ['a viewer with no jobs of their own sees no user', VIEWER, 'user', []],
  ])('%s', async (_name, user, by, expected) => {
    expect(groups(await report(`/api/v1/usage?${RANGE}&by=${by}`, user))).toEqual(expected);
  });

  it('takes a read-only token', async () => {
    const { secret } = t.app.tokens.create(t.app.users.get(VIEWER.username), { name: 'reports', scope: 'read' }, { actor: 'test' });
    const response = await t.request(`/api/v1/usage?${RANGE}`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(response.status).toBe(200);
  });
});
