import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { createLog, type Log } from '../../src/lib/log.ts';
import { ROOT } from '../helpers/processes.ts';

export const OWN_FIXTURES = join(ROOT, 'test/fixtures/nvidia-smi');
/** Real captures shared between the projects of this workplace; absent in a fresh clone. */
export const SHARED_FIXTURES = resolve(ROOT, '../shared/fixtures/nvidia-smi');
export const hasSharedFixtures = existsSync(SHARED_FIXTURES);

export const MIB = 1024 * 1024;

export const readFixture = (name: string) => readFileSync(join(OWN_FIXTURES, name), 'utf8');

/**
 * The output recorded under one heading of an nvidia_gpu_exporter capture, e.g. `load :: query-gpu`: the lines
 * between the `####` rule after `# <heading>` (and its `# $ command` line) and the next rule.
 */
export function captureSection(file: string, heading: string): string {
  const lines = readFileSync(join(SHARED_FIXTURES, file), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(`# ${heading}`));
  if (start < 0) throw new Error(`no section "${heading}" in ${file}`);
  const bodyStart = lines.findIndex((line, index) => index > start && line.startsWith('####')) + 1;
  const bodyEnd = lines.findIndex((line, index) => index >= bodyStart && line.startsWith('####'));
  return lines.slice(bodyStart, bodyEnd < 0 ? undefined : bodyEnd).join('\n');
}

/** A log that keeps its JSON lines for the test to read. */
export function capturedLog(): { log: Log; entries: () => Array<{ level: number; msg: string } & Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLog('info', sink), entries: () => lines.map((line) => JSON.parse(line)) };
}

/** An executable shell script named `name` in a fresh directory, standing in for nvidia-smi. */
export function fakeExecutable(body: string, name = 'nvidia-smi'): { dir: string; binary: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trainyard-nvidia-smi-'));
  const binary = join(dir, name);
  writeFileSync(binary, `#!/bin/sh\n${body}\n`);
  chmodSync(binary, 0o755);
  return { dir, binary };
}
