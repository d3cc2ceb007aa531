import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuInventory, GpuSnapshot } from '../../src/gpu/gpu-inventory.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { replicaSubmission } from '../../src/serving/replica-jobs.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';

const GIB = 1024 ** 3;
let t: TestApp;
let cpuOnly: TestApp;
let uuids: string[];

const cardsIn = (text: string) => [...text.matchAll(/<article class="gpu-card" id="gpu-([^"]+)">/g)].map((match) => match[1]);
/** One card's HTML, MIG cards included. */
const card = (text: string, uuid: string) => new RegExp(`<article class="gpu-card" id="gpu-${uuid}">[\\s\\S]*?</article>`).exec(text)?.[0] ?? '';

function placed(username: string, project: string, gpuUuids: string[], name: string) {
  const job = t.app.jobs.submit(t.app.users.get(username), jobSubmissionSchema.parse({ project, name, image: 'busybox:1', command: ['true'], gpus: gpuUuids.length }));
  return t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids })!;
}

/** An inventory that reports what the test says, as the nvidia one would. */
const fixedInventory = (snapshot: GpuSnapshot): GpuInventory => ({ kind: snapshot.kind, list: async () => snapshot, setLoad() {} });

beforeAll(async () => {
  [t, cpuOnly] = await Promise.all([createTestApp(), createTestApp({ gpus: 'none' })]);
  uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
});

describe('GPU board', () => {
  it('shows a card per GPU with memory, utilization, temperature and power, and the jobs holding each', async () => {
    const mine = placed(MEMBER.username, 'default', [uuids[0]!], 'resnet');
    t.app.jobs.move(mine.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
    placed(ADMIN.username, 'secret', [uuids[2]!, uuids[3]!], 'classified');
    t.app.gpus.setLoad(uuids[0]!, 0.93, 60 * GIB);

    const { status, text } = await t.get('/gpus', MEMBER);
    expect(status).toBe(200);
    expect(text).toContain('class="active">GPUs</a>');
    expect(cardsIn(text)).toEqual(uuids);
    const busy = card(text, uuids[0]!);
    expect(busy).toContain('<strong>GPU 0</strong> <span class="muted">NVIDIA H100 80GB (simulated)</span>');
    expect(busy).toContain('60.0 GB / 80.0 GB');
    expect(busy).toContain('<div class="meter high" role="meter" aria-label="Utilization" aria-valuemin="0" aria-valuemax="100" aria-valuenow="93">');
    expect(busy).toContain('93%');
    expect(busy).toMatch(/<dd>\d+ °C<\/dd>/);
    expect(busy).toMatch(/<dd>\d+ \/ 700 W<\/dd>/);
    expect(busy).toContain(`<a href="/jobs/${mine.id}"><strong>#${mine.id}</strong> <span class="job-name">resnet</span></a>`);
    expect(busy).toContain('data-state="running"');
    expect(card(text, uuids[1]!)).toContain('<div class="holders free">Free</div>');
    // Another project's job holds GPUs 2 and 3: the viewer sees that they are taken, not by what.
    expect(card(text, uuids[2]!)).toContain('a job in another project');
    expect(text).not.toContain('classified');
    expect(card((await t.get('/gpus', ADMIN)).text, uuids[3]!)).toContain('classified');
    expect(text).toContain('Simulated GPUs.');
  });

  it('answers the polling board with the board alone, asking again every 3 s', async () => {
    const { status, text } = await t.get('/gpus', MEMBER, { 'HX-Request': 'true' });
    expect(status).toBe(200);
    expect(text.startsWith('<div id="gpu-board" hx-get="/gpus" hx-trigger="every 3s" hx-swap="outerHTML">')).toBe(true);
    expect(cardsIn(text)).toHaveLength(4);
  });

  it('shows MIG devices as cards of their own, unreadable readings as n/a, and why the latest reading failed', async () => {
    const original = t.app.gpus;
    t.app.gpus = fixedInventory({
      kind: 'nvidia',
      sampledAt: t.clock.now,
      problem: 'nvidia-smi timed out after 5 s',
      processes: [{ pid: 4242, gpuUuid: 'GPU-a', usedMemory: 3 * GIB }],
      devices: [
        {
          index: 0, uuid: 'GPU-a', name: 'NVIDIA A100-SXM4-40GB', memoryTotal: 40 * GIB, memoryUsed: 3 * GIB, memoryFree: 37 * GIB,
          utilization: null, temperature: null, powerDraw: null, powerLimit: null, migMode: 'enabled',
          migDevices: [{ uuid: 'MIG-b', parentUuid: 'GPU-a', index: 1, profile: '3g.20gb', memoryTotal: 20 * GIB, memoryUsed: GIB, memoryFree: 19 * GIB }],
        },
      ],
    });
    placed(MEMBER.username, 'default', ['MIG-b'], 'on-a-slice');
    try {
      const { text } = await t.get('/gpus', MEMBER);
      expect(text).toContain('The latest GPU reading failed: nvidia-smi timed out after 5 s');
      const gpu = card(text, 'GPU-a');
      expect(gpu).toContain('<div><dt>MIG</dt><dd>enabled</dd></div>');
      expect(gpu).toMatch(/Utilization[\s\S]*?n\/a/);
      expect(gpu).toContain('<dd>n/a</dd>');
      expect(gpu).toContain('1 process · 3.0 GB');
      const mig = /<div class="gpu-card mig" id="gpu-MIG-b">[\s\S]*?<code class="uuid">MIG-b<\/code>/.exec(gpu)?.[0] ?? '';
      expect(mig).toContain('<strong>MIG 1</strong> <span class="muted">3g.20gb</span>');
      expect(mig).toContain('1.0 GB / 20.0 GB');
      expect(mig).toContain('on-a-slice');
      expect(text).not.toContain('Simulated GPUs.');
    } finally {
      t.app.gpus = original;
    }
  });

  it('says so on a CPU-only appliance', async () => {
    const { status, text } = await cpuOnly.get('/gpus', MEMBER);
    expect(status).toBe(200);
    expect(cardsIn(text)).toEqual([]);
    expect(text).toContain('No GPUs: this appliance runs CPU jobs only.');
    expect(text).not.toContain('data-resource-chart');
    expect(text).toContain('<main class="page" hx-ws:connect="/live">');
  });

  it('draws a live chart per GPU below the board, fed by the gpus feed', async () => {
    const { text } = await t.get('/gpus', MEMBER);
    expect(text).toContain('hx-ws:connect="/live?feeds=gpus"');
    expect(text).toMatch(/<script src="\/static\/\w+\/uplot.min.js" defer><\/script>/);
    expect(text).toMatch(/<script src="\/static\/\w+\/resource-charts.js" defer><\/script>/);
    const charts = text.slice(text.indexOf('<div class="panel" id="gpu-charts">'));
    expect(charts.indexOf('id="gpu-board"')).toBe(-1);
    const specs = [...charts.matchAll(/data-resource-chart="([^"]+)"/g)].map((match) => JSON.parse(match[1]!.replaceAll('&quot;', '"')));
    expect(specs.map((spec) => spec.subject)).toEqual(uuids.map((uuid) => `gpu:${uuid}`));
    expect(specs[0]).toMatchObject({ url: `/api/v1/monitoring/series?subject=gpu%3A${uuids[0]}`, windowMs: 3_600_000 });
    expect(specs[0].lines.map((line: { label: string }) => line.label)).toEqual(['Utilization', 'Memory', 'Temperature', 'Power']);
    expect(charts).toContain('<strong>GPU 0 · NVIDIA H100 80GB (simulated)</strong>');
  });

  it("shows what each holder really uses by the sampler's latest round, and the deployment a replica serves", async () => {
    const alone = placed(MEMBER.username, 'default', [uuids[1]!], 'alone');
    t.app.jobs.move(alone.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
    t.app.gpus.setLoad(uuids[1]!, 0.42, 12 * GIB);
    // Until a round has seen the job on its GPU, what it uses is not known.
    const before = card((await t.get('/gpus', MEMBER)).text, uuids[1]!);
    expect(before).toContain('alone');
    expect(before).not.toContain('class="holder-usage"');

    await t.app.monitoring.sampleOnce();
    const { text } = await t.get('/gpus', MEMBER);
    expect(card(text, uuids[1]!)).toContain('<div class="holder-usage">uses 42% busy · 12.0 GB held</div>');
    expect(card(text, uuids[0]!)).toContain('<div class="holder-usage">uses 93% busy · 60.0 GB held</div>');

    await registerVersion(t.app, t.app.users.get(ADMIN.username), 'churn', { 'model.pkl': 'one' });
    const deployment = await deploy(t.app, t.app.users.get(ADMIN.username), { name: 'churn', model: 'models:/churn/1', gpus: 1 });
    const replica = t.app.jobs.submitReplica(replicaSubmission(deployment, { slot: 1, version: 1, modelPath: '/tmp/model' }));
    t.app.jobs.move(replica.id, 'queued', 'starting', 'placed', { gpuUuids: [uuids[1]!] });
    t.app.jobs.move(replica.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
    await t.app.monitoring.sampleOnce();
    const shared = card((await t.get('/gpus', MEMBER)).text, uuids[1]!);
    expect(shared).toContain('<a href="/deployments/churn"><strong>churn</strong></a> <span class="muted">replica</span>');
    expect(shared).toContain(`<a href="/jobs/${replica.id}">`);
    // Two jobs share GPU 1 now: its readings are theirs together, and neither has a process known apart.
    expect(shared).not.toContain('42% busy');
    expect(shared).toContain('its own use is not measurable here');
  });

  it('links a job to the card of each GPU it holds', async () => {
    const job = placed(MEMBER.username, 'default', [uuids[1]!], 'linked');
    const { text } = await t.get(`/jobs/${job.id}`, MEMBER);
    expect(text).toContain(`<a href="/gpus#gpu-${uuids[1]}" title="${uuids[1]}">GPU 1</a>`);
  });
});
