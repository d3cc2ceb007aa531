import type { Command } from 'commander';
import type { UsageFigures, UsageReport } from '../../accounting/usage-report.ts';
import { USAGE_GROUPINGS } from '../../accounting/usage-query.ts';
import { isDay } from '../../accounting/utc-days.ts';
import { clientFromEnvironment } from '../api-client.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { printList } from '../output.ts';

interface UsageOptions {
  from?: string;
  to?: string;
  by: string;
  json?: boolean;
}

type Row = { name: string; figures: UsageFigures };

const hours = (value: number) => value.toFixed(2);

function checkedDay(option: string, value: string | undefined): string | undefined {
  if (value !== undefined && !isDay(value)) throw new CliError(`--${option} takes a day written YYYY-MM-DD, got "${value}"`, EXIT.usage);
  return value;
}

/** One row per project or user (per day when grouped by day), then the total. */
function rowsOf(report: UsageReport): Row[] {
  const rows =
    report.by === 'day'
      ? report.groups.flatMap((group) => group.days.map(({ day, ...figures }) => ({ name: day, figures })))
      : report.groups.map((group) => ({ name: group.name, figures: group.total }));
  return [...rows, { name: 'TOTAL', figures: report.total }];
}

export function usageCommand(program: Command): void {
  program
    .command('usage')
    .description('GPU-hours allocated and used, CPU- and memory-hours, per project, user or day (UTC days)')
    .option('--from <day>', 'first day, YYYY-MM-DD (default: 6 days before --to)')
    .option('--to <day>', 'last day, YYYY-MM-DD (default: today)')
    .option('--by <grouping>', `one row per ${USAGE_GROUPINGS.join(', ')}`, 'project')
    .option('--json', 'print the whole report, day by day, as JSON')
    .action(async (options: UsageOptions) => {
      if (!(USAGE_GROUPINGS as readonly string[]).includes(options.by)) throw new CliError(`--by takes ${USAGE_GROUPINGS.join(', ')}, got "${options.by}"`, EXIT.usage);
      const query = new URLSearchParams({ by: options.by });
      for (const option of ['from', 'to'] as const) {
        const day = checkedDay(option, options[option]);
        if (day) query.set(option, day);
      }
      const report = await clientFromEnvironment().call<UsageReport>('GET', `/api/v1/usage?${query}`);
      if (!options.json) process.stderr.write(`Usage from ${report.from} to ${report.to} (UTC days), by ${report.by}\n`);
      printList(Boolean(options.json), report, rowsOf(report), [
        [report.by.toUpperCase(), (row) => row.name],
        ['GPU-H ALLOCATED', (row) => hours(row.figures.allocatedGpuHours)],
        ['GPU-H USED', (row) => hours(row.figures.usedGpuHours)],
        ['UTIL', (row) => (row.figures.utilization === null ? '-' : `${Math.round(row.figures.utilization * 100)}%`)],
        ['CPU-H', (row) => hours(row.figures.cpuHours)],
        ['MEM GIB-H', (row) => hours(row.figures.memoryGibHours)],
        ['JOBS', (row) => row.figures.jobs],
      ]);
    });
}
