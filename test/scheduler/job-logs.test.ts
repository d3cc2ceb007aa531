import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/lib/bus.ts';
import { createJobLogs, MAX_LOG_BYTES, type JobLogLine } from '../../src/scheduler/job-logs.ts';

const root = mkdtempSync(join(tmpdir(), 'trainyard-logs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const line = (text: string, stream: JobLogLine['stream'] = 'stdout', time = 1000): JobLogLine => ({ stream, time, text });

describe('job logs', () => {
  it('keeps lines in order across appends and reads them from a line number', () => {
    const logs = createJobLogs({ root, bus: createBus() });
    logs.append(1, [line('a'), line('b', 'stderr')]);
    logs.append(1, [line('c')]);
    expect(logs.read(1).map(({ text }) => text)).toEqual(['a', 'b', 'c']);
    expect(logs.read(1, 2)).toEqual([line('c')]);
    expect(logs.read(99)).toEqual([]);
  });

  it('numbers lines after a restart from what is on disk, and drops a torn last row', () => {
    createJobLogs({ root, bus: createBus() }).append(2, [line('before')]);
    appendFileSync(join(root, '2.log'), '{"stream":"stdout","ti');
    const bus = createBus();
    const events: number[] = [];
    bus.subscribe('job.log', ({ first }) => events.push(first));
    const logs = createJobLogs({ root, bus });
    expect(logs.read(2)).toEqual([line('before')]);
    expect(events).toEqual([]);
  });

  it('follows: what is stored, then what arrives, until the job is finished', async () => {
    const logs = createJobLogs({ root, bus: createBus() });
    logs.append(3, [line('one')]);
    let done = false;
    const seen: string[] = [];
    const following = (async () => {
      for await (const { text } of logs.follow(3, { finished: () => done })) seen.push(text);
    })();
    await new Promise((resolve) => setTimeout(resolve, 10));
    logs.append(3, [line('two'), line('three')]);
    done = true;
    logs.append(3, [line('four')]);
    await following;
    expect(seen).toEqual(['one', 'two', 'three', 'four']);
  });

  it('follows from a line number and stops when aborted', async () => {
    const logs = createJobLogs({ root, bus: createBus() });
    logs.append(4, [line('0'), line('1'), line('2')]);
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const { text } of logs.follow(4, { from: 1, finished: () => false, signal: controller.signal })) seen.push(text);
    })();
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await following;
    expect(seen).toEqual(['1', '2']);
  });

  it('cuts a log at its size limit with one line that says so', () => {
    const logs = createJobLogs({ root, bus: createBus() });
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < MAX_LOG_BYTES / (1024 * 1024) + 2; i++) logs.append(5, [line(big)]);
    const stored = logs.read(5);
    expect(stored.at(-1)).toMatchObject({ stream: 'system', text: 'log cut at 64 MB' });
    expect(stored.filter(({ stream }) => stream === 'system')).toHaveLength(1);
  });
});

describe('the tail of a job log', () => {
  it('reads only the last lines and says how many there are', () => {
    const logs = createJobLogs({ root, bus: createBus() });
    logs.append(6, Array.from({ length: 5000 }, (_, i) => line(`line ${i} ${'y'.repeat(200)}`)));
    const { total, lines } = logs.tail(6, 3);
    expect(total).toBe(5000);
    expect(lines.map(({ text }) => text.split(' ').slice(0, 2).join(' '))).toEqual(['line 4997', 'line 4998', 'line 4999']);
    expect(logs.tail(6, 9000).lines).toHaveLength(5000);
    expect(logs.tail(404, 10)).toEqual({ total: 0, lines: [] });
    expect(createJobLogs({ root, bus: createBus() }).tail(6, 1).total).toBe(5000);
  });
});
