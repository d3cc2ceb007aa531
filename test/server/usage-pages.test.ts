import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { recordSomeUsage } from '../accounting/usage-fixtures.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await recordSomeUsage(t, { member: MEMBER.username, admin: ADMIN.username });
});

/** The cells of a group's table rows, by the row's first cell (a day or Total). */
function rowsOf(text: string, panelId: string): Record<string, string[]> {
  const panel = new RegExp(`<div class="panel usage-group" id="${panelId}">([\\s\\S]*?)</table>`).exec(text)?.[1] ?? '';
  return Object.fromEntries(
    [...panel.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)]
      .map((row) => [...row[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '').trim()))
      .filter((cells) => cells[0] !== 'Day (UTC)')
      .map((cells) => [cells[0]!, cells.slice(1)]),
  );
}

describe('usage page', () => {
  it('shows a table per project with its days and total, the range form, and Usage in the nav', async () => {
    const { status, text } = await t.get('/usage?from=2026-11-22&to=2026-11-23', ADMIN);
    expect(status).toBe(200);
    expect(text).toContain('class="active">Usage</a>');
    expect(text).toContain('<input type="date" name="from" value="2026-11-22" required>');
    expect(text).toContain('<option value="project" selected>project</option>');
    expect(rowsOf(text, 'usage-project-default')).toEqual({
      '2026-11-22': ['1.00', '0.25', '50%', '1.00', '2.00', '1'],
      '2026-11-23': ['1.50', '0.25', '50%', '1.00', '2.00', '1'],
      Total: ['2.50', '0.50', '50%', '2.00', '4.00', '1'],
    });
    expect(rowsOf(text, 'usage-project-vision')).toEqual({
      '2026-11-22': ['0.75', '0.20', '80%', '—', '—', '1'],
      Total: ['0.75', '0.20', '80%', '—', '—', '1'],
    });
    expect(text.indexOf('id="usage-project-default"')).toBeLessThan(text.indexOf('id="usage-project-vision"'));
  });

  it('defaults to the last 7 days by project, and an empty field takes its default', async () => {
    for (const path of ['/usage', '/usage?from=&to=&by=']) {
      const { status, text } = await t.get(path, ADMIN);
      expect(status).toBe(200);
      expect(text).toContain('value="2026-11-17"');
      expect(text).toContain('value="2026-11-23"');
      expect(text).toContain('id="usage-project-default"');
    }
  });

  it('shows a member their own usage by user and only the projects they belong to', async () => {
    const byProject = await t.get('/usage?from=2026-11-22&to=2026-11-23', MEMBER);
    expect(byProject.text).toContain('id="usage-project-default"');
    expect(byProject.text).not.toContain('vision');
    const byUser = await t.get('/usage?from=2026-11-22&to=2026-11-23&by=user', MEMBER);
    expect(rowsOf(byUser.text, `usage-user-${MEMBER.username}`).Total).toEqual(['2.50', '0.50', '50%', '2.00', '4.00', '1']);
    expect(byUser.text).not.toContain(`id="usage-user-${ADMIN.username}"`);
  });

  it('says when there is nothing to show', async () => {
    const { status, text } = await t.get('/usage?from=2026-01-01&to=2026-01-31', ADMIN);
    expect(status).toBe(200);
    expect(text).toContain('No GPU time or sampled use from 2026-01-01 to 2026-01-31 that you may see.');
  });

  it.each([
    ['/usage?from=2026-11-31', 'from: write a day as YYYY-MM-DD'],
    ['/usage?from=2026-11-23&to=2026-11-01', 'from (2026-11-23) is after to (2026-11-01)'],
    ['/usage?by=week', 'by: one of project, user, day; got &quot;week&quot;'],
  ])('answers %s with a 400 page that says why', async (path, message) => {
    const { status, text } = await t.get(path, ADMIN);
    expect(status).toBe(400);
    expect(text).toContain(message);
  });
});
