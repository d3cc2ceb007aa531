import { Option, type Command } from 'commander';
import type { AlertJson } from '../../alerts/alert-json.ts';
import { formatTime } from '../../lib/format-time.ts';
import { clientFromEnvironment } from '../api-client.ts';
import { printList } from '../output.ts';

export function alertsCommand(program: Command): void {
  program
    .command('alerts')
    .description('the alerts you may see: the open ones, or with --all the open ones first, then the latest')
    .addOption(new Option('--all', 'resolved alerts too').conflicts('resolved'))
    .option('--resolved', 'only resolved alerts, the latest first')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; resolved?: boolean; json?: boolean }) => {
      const state = options.all ? 'all' : options.resolved ? 'resolved' : 'open';
      const result = await clientFromEnvironment().call<{ alerts: AlertJson[] }>('GET', `/api/v1/alerts?state=${state}`);
      printList(Boolean(options.json), result, result.alerts, [
        ['STATE', (alert) => alert.state],
        ['SEVERITY', (alert) => alert.severity],
        ['RULE', (alert) => alert.rule],
        ['FIRED', (alert) => formatTime(alert.firedAt)],
        ['RESOLVED', (alert) => formatTime(alert.resolvedAt)],
        // Last: the one long column, which names what the alert is about.
        ['MESSAGE', (alert) => alert.message],
      ]);
    });
}
