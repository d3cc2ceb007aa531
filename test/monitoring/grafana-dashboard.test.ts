import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { requirePromtool } from '../helpers/environment.ts';
import { ROOT } from '../helpers/processes.ts';
import { ADMIN, createTestApp } from '../helpers/test-app.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';
import { familiesOf, parseSamples } from './prometheus-text.ts';

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  panels: Panel[];
  templating: { list: Array<{ name: string; datasource: Target['datasource']; query: { query: string } }> };
}

const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const dashboard = JSON.parse(readFileSync(join(ROOT, 'scripts/grafana/trainyard-dashboard.json'), 'utf8')) as Dashboard;
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
const exprs = [
  ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
  ...dashboard.templating.list.map((variable) => variable.query.query),
];
/** Grafana's variables, as Prometheus would see them once Grafana has filled them in. */
const asPromQl = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replace(/\$[a-z]+/g, '.*');

describe('the Grafana dashboard', () => {
  let exported: Set<string>;
  beforeAll(async () => {
    const t = await createTestApp();
    const admin = t.app.users.get(ADMIN.username);
    await registerVersion(t.app, admin, 'churn', { 'model.pkl': 'weights' });
    await deploy(t.app, admin, { name: 'churn-prod', model: 'models:/churn/1' });
    t.app.servingMetrics.record('churn-prod', 200, 12);
    for (const path of ['/api/v1/gpus', '/api/v1/jobs/404']) await t.get(path, ADMIN);
    const { text } = await t.get('/metrics', ADMIN);
    exported = new Set([...familiesOf(text).keys(), ...parseSamples(text).map((sample) => sample.name)]);
  });

  it('asks for its Prometheus as an input, and every panel and query uses it', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource, panel.title).toEqual(DATASOURCE);
    }
    for (const variable of dashboard.templating.list) expect(variable.datasource, variable.name).toEqual(DATASOURCE);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
  });

  it('has the panels for GPUs, jobs, the queue, the HTTP server and served models', () => {
    const titles = panels.map((panel) => panel.title);
    const wanted = ['GPU utilization', 'GPU memory used', 'GPU temperature', 'GPU power', 'Jobs by state', 'Longest wait in the queue'];
    wanted.push('HTTP requests per second', 'HTTP latency', 'Model calls per second', 'Model latency (p95)');
    for (const title of wanted) expect(titles).toContain(title);
  });

  it('names only metrics that /metrics exports', () => {
    const named = new Set(exprs.flatMap((expr) => expr.match(/\btrainyard_[a-z0-9_]+/g) ?? []));
    expect(named.size).toBeGreaterThanOrEqual(12);
    expect([...named].filter((name) => !exported.has(name))).toEqual([]);
  });

  const promtool = requirePromtool();
  it.skipIf(!promtool)('has queries that Prometheus parses (promtool check rules)', () => {
    const queries = exprs.filter((expr) => !expr.startsWith('label_values('));
    const rules = { groups: [{ name: 'dashboard', rules: queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr: asPromQl(expr) })) }] };
    const file = join(mkdtempSync(join(tmpdir(), 'trainyard-dashboard-')), 'rules.yml');
    writeFileSync(file, stringify(rules));
    const result = spawnSync(promtool!, ['check', 'rules', file], { encoding: 'utf8', timeout: 20_000 });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});
