import { execFile, type ChildProcess } from 'node:child_process';

export type NvidiaSmiFailure = 'missing' | 'timeout' | 'failed';

/** Why nvidia-smi gave no answer: not installed, no answer in time, or an error exit (its message included). */
export class NvidiaSmiError extends Error {
  readonly failure: NvidiaSmiFailure;

  constructor(failure: NvidiaSmiFailure, message: string) {
    super(message);
    this.name = 'NvidiaSmiError';
    this.failure = failure;
  }
}

/** Runs nvidia-smi with the given arguments and resolves with its standard output. */
export type RunNvidiaSmi = (args: readonly string[]) => Promise<string>;

export interface NvidiaSmiRunnerOptions {
  binary?: string;
  timeoutMs?: number;
}

const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

function firstLines(text: string): string {
  const lines = text.trim().split(/\r?\n/).slice(0, 3).join(' ');
  return lines === '' ? 'no message' : lines;
}

/**
 * Runs nvidia-smi directly (no shell), killed when it does not answer in time. A GPU whose driver is wedged can
 * leave nvidia-smi unkillable; while one that timed out is still alive no other is started, so a hung driver
 * does not pile up a stuck process per sample.
 */
export function createNvidiaSmiRunner({ binary = 'nvidia-smi', timeoutMs = 5_000 }: NvidiaSmiRunnerOptions = {}): RunNvidiaSmi {
  const stuck = new Set<ChildProcess>();
  const timeoutMessage = `${binary} did not answer within ${timeoutMs / 1000} s`;

  return (args) =>
    new Promise((resolve, reject) => {
      if (stuck.size > 0) {
        reject(new NvidiaSmiError('timeout', `${timeoutMessage}, and has still not exited; not starting another`));
        return;
      }
      let timedOut = false;
      const child = execFile(binary, args, { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true }, (error, stdout, stderr) => {
        clearTimeout(timer);
        stuck.delete(child);
        if (timedOut) return;
        if (!error) resolve(stdout);
        else if (error.code === 'ENOENT') reject(new NvidiaSmiError('missing', `${binary} was not found (is the NVIDIA driver installed?)`));
        else {
          const status = typeof error.code === 'number' ? `exited with ${error.code}` : (error.signal ?? error.code ?? 'failed');
          const command = [binary, args[0]?.split('=')[0]].filter(Boolean).join(' ');
          reject(new NvidiaSmiError('failed', `${command} ${status}: ${firstLines(stderr || stdout)}`));
        }
      });
      const timer = setTimeout(() => {
        timedOut = true;
        stuck.add(child);
        child.kill('SIGKILL');
        reject(new NvidiaSmiError('timeout', timeoutMessage));
      }, timeoutMs);
    });
}
