import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertRecord } from '../../src/alerts/alerts.ts';
import type { GpuReading, HostReading, MonitorSample, UnitHolder } from '../../src/monitoring/sample.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import type { TestApp } from '../helpers/test-app.ts';

const GIB = 2 ** 30;

export const HOST: HostReading = {
  cpu: 0.2,
  load1: 1,
  memoryUsed: 64 * GIB,
  memoryTotal: 256 * GIB,
  diskUsed: 400 * GIB,
  diskTotal: 1000 * GIB,
  netRxBytesPerSecond: 0,
  netTxBytesPerSecond: 0,
};

/** A whole GPU's reading: cool, busy and free unless told otherwise. */
export function gpuReading(uuid: string, index: number, fields: Partial<GpuReading> = {}): GpuReading {
  return {
    uuid,
    index,
    name: 'NVIDIA H100 80GB (simulated)',
    utilization: 0.9,
    memoryUsed: 40 * GIB,
    memoryTotal: 80 * GIB,
    temperature: 55,
    powerDraw: 500,
    powerLimit: 700,
    holders: [],
    ...fields,
  };
}

export const heldBy = (uuid: string, job: Pick<JobRecord, 'id' | 'deploymentId'>): UnitHolder[] => [{ unitUuid: uuid, jobId: job.id, deploymentId: job.deploymentId }];

/** One sampler round taken now by the test's clock, as the sampler publishes it. */
export function publishSample(t: TestApp, parts: { gpus?: GpuReading[]; host?: HostReading | null } = {}): MonitorSample {
  const sample: MonitorSample = { at: t.clock.now, intervalMs: 5_000, gpus: parts.gpus ?? [], host: parts.host === undefined ? HOST : parts.host, containers: [], skipped: [] };
  t.app.bus.publish('monitoring.sample', sample);
  return sample;
}

export function submitJob(t: TestApp, username: string, fields: Record<string, unknown> = {}): JobRecord {
  return t.app.jobs.submit(t.app.users.get(username), jobSubmissionSchema.parse({ project: 'default', name: 'train', image: 'busybox:1', command: ['true'], ...fields }));
}

/** A job of `username`'s, moved to running on `gpuUuids` as the scheduler would. */
export function runningJob(t: TestApp, username: string, gpuUuids: string[]): JobRecord {
  const job = submitJob(t, username, { gpus: gpuUuids.length });
  t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids });
  return t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now })!;
}

/** Every `alert.changed` from now on. */
export function alertChanges(t: TestApp): AlertRecord[] {
  const changes: AlertRecord[] = [];
  t.app.bus.subscribe('alert.changed', ({ alert }) => changes.push(alert));
  return changes;
}

export const openAlerts = (t: TestApp) => t.app.alerts.list(t.app.users.get('admin'), { state: 'open', limit: 1000 });
export const allAlerts = (t: TestApp) => t.app.alerts.list(t.app.users.get('admin'), { state: 'all', limit: 1000 });

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  json: { text: string; alert: { id: number; state: string; rule: string; message: string; resolvedAt: number | null } & Record<string, unknown> };
}

export interface WebhookServer {
  /** The server's address with a path that stands for a chat webhook's secret. */
  url: string;
  received: ReceivedPost[];
  /** How the next POSTs are answered, in turn: a status, or `hang` (no answer until the server closes); 200 after them. */
  answers: Array<number | 'hang'>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 standing in for Slack or Mattermost. */
export async function startWebhookServer(): Promise<WebhookServer> {
  const received: ReceivedPost[] = [];
  const answers: WebhookServer['answers'] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, json: JSON.parse(Buffer.concat(chunks).toString()) });
      const answer = answers.shift() ?? 200;
      if (answer !== 'hang') response.writeHead(answer, { 'Content-Type': 'text/plain' }).end(answer === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/T0001/B0002/s3cr3t-token`,
    received,
    answers,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
