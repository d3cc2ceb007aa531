import type { Command } from 'commander';
import { clientFromEnvironment } from '../api-client.ts';
import { formatBytes } from '../../lib/byte-size.ts';
import type { JobJson } from '../../scheduler/job-json.ts';
import type { JobLogLine } from '../../scheduler/job-logs.ts';
import { streamingClientFromEnvironment } from '../api-stream.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { exitCodeOf, followJob, printLine } from '../follow-job.ts';
import { printList } from '../output.ts';

function jobIdOf(text: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) throw new CliError(`"${text}" is not a job id`, EXIT.usage);
  return Number(text);
}

/** `42s`, `3m12s`, `2h05m`, `3d04h`: short enough for a table column. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${two(Math.floor(seconds / 60) % 60)}m`;
  return `${Math.floor(seconds / 86_400)}d${two(Math.floor(seconds / 3600) % 24)}h`;
}

const gpusOf = ({ resources }: JobJson) => (resources.gpuMemory !== null ? formatBytes(resources.gpuMemory) : resources.gpus > 0 ? String(resources.gpus) : '-');
const waited = (job: JobJson, now: number) => formatElapsed((job.startedAt ?? job.finishedAt ?? now) - job.submittedAt);
const ran = (job: JobJson, now: number) => (job.startedAt === null ? '-' : formatElapsed((job.finishedAt ?? now) - job.startedAt));

export function jobCommands(program: Command): void {
  program
    .command('jobs')
    .description('list your jobs, newest first')
    .option('--all', 'everyone\'s jobs in the projects you see, not only yours')
    .option('--state <states>', 'only these states, e.g. queued,running')
    .option('--project <name>', 'only this project')
    .option('--limit <n>', 'at most this many (1 to 500)', '20')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; state?: string; project?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: options.limit, ...(!options.all && { mine: '1' }) });
      if (options.state) query.set('state', options.state);
      if (options.project) query.set('project', options.project);
      const result = await clientFromEnvironment().call<{ jobs: JobJson[]; next_before: number | null }>('GET', `/api/v1/jobs?${query}`);
      const now = Date.now();
      printList(Boolean(options.json), result, result.jobs, [
        ['ID', (job) => job.id],
        ['STATE', (job) => job.state.replace('_', ' ')],
        ['NAME', (job) => (job.name.length > 40 ? `${job.name.slice(0, 39)}…` : job.name)],
        ['GPUS', gpusOf],
        ['USER', (job) => job.user],
        ['WAITED', (job) => waited(job, now)],
        ['RAN', (job) => ran(job, now)],
      ]);
    });

  program
    .command('logs')
    .description("print a job's output: its stdout on stdout, the rest on stderr")
    .argument('<id>', 'job id (see `yard jobs`)')
    .option('-f, --follow', 'keep printing until the job ends, then exit with its exit code')
    .action(async (text: string, options: { follow?: boolean }) => {
      const id = jobIdOf(text);
      const client = streamingClientFromEnvironment();
      if (options.follow) {
        const end = await followJob(client, id);
        process.exitCode = end ? exitCodeOf(end) : 130;
        return;
      }
      for (let from = 0; ; ) {
        const page = await client.call<{ lines: JobLogLine[]; next: number }>('GET', `/api/v1/jobs/${id}/logs?from=${from}`);
        page.lines.forEach(printLine);
        if (page.next === from) return;
        from = page.next;
      }
    });

  program
    .command('cancel')
    .description('cancel a job: at once while it waits, or by stopping its container')
    .argument('<id>', 'job id (see `yard jobs`)')
    .action(async (text: string) => {
      const id = jobIdOf(text);
      const { job } = await clientFromEnvironment().call<{ job: JobJson }>('POST', `/api/v1/jobs/${id}/cancel`);
      process.stderr.write(job.state === 'cancelled' ? `Cancelled job ${id}\n` : `Stopping job ${id} (${job.state}); it ends cancelled once its container stops\n`);
    });
}
