import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;

const chartSpecs = (text: string) => [...text.matchAll(/data-resource-chart="([^"]+)"/g)].map((match) => JSON.parse(match[1]!.replaceAll('&quot;', '"')));

beforeAll(async () => {
  t = await createTestApp();
});

describe('host page', () => {
  it('is in the navigation for everyone signed in, with live charts of CPU and load, memory and disk, and network', async () => {
    const { status, text } = await t.get('/host', MEMBER);
    expect(status).toBe(200);
    expect(text).toContain('<a href="/host" class="active">Host</a>');
    expect(text).toContain('hx-ws:connect="/live?feeds=series:host"');
    expect(text).toMatch(/<script src="\/static\/\w+\/resource-charts.js" defer><\/script>/);
    const specs = chartSpecs(text);
    expect(specs.map((spec) => spec.subject)).toEqual(['host', 'host', 'host']);
    expect(specs.map((spec) => spec.lines.map((line: { field: string }) => line.field))).toEqual([
      ['cpu', 'load1'],
      ['memoryUsed', 'diskUsed'],
      ['netRxBytesPerSecond', 'netTxBytesPerSecond'],
    ]);
    expect(specs[1].lines[1]).toEqual({ field: 'diskUsed', per: 'diskTotal', label: 'Data disk', unit: 'percent' });
  });

  it("says so before the sampler's first round, and shows the host's sizes after it", async () => {
    expect((await t.get('/host', MEMBER)).text).toContain('The sampler has not recorded a round yet');
    const sample = await t.app.monitoring.sampleOnce();
    const { text } = await t.get('/host', MEMBER);
    expect(text).not.toContain('not recorded a round yet');
    expect(sample.host).not.toBeNull();
    expect(text).toMatch(/<dt>Memory<\/dt><dd>[\d.]+ [KMGT]?B<\/dd>/);
    expect(text).toMatch(/<dt>Data disk<\/dt><dd>[\d.]+ [KMGT]?B<\/dd>/);
  });

  it("tells only site admins what the latest round skipped, as it may name other projects' jobs", async () => {
    const skipped = ['docker stats of job 7: no such container'];
    const latest = t.app.monitoring.latest()!;
    const original = t.app.monitoring.latest;
    t.app.monitoring.latest = () => ({ ...latest, skipped });
    try {
      expect((await t.get('/host', ADMIN)).text).toContain('The latest round skipped: docker stats of job 7: no such container');
      expect((await t.get('/host', MEMBER)).text).not.toContain('docker stats of job 7');
    } finally {
      t.app.monitoring.latest = original;
    }
  });
});
