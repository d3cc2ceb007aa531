import type { Command } from 'commander';
import { tokenReach } from '../../lib/token-reach.ts';
import type { PublicToken } from '../../auth/tokens.ts';
import { formatTime } from '../../lib/format-time.ts';
import { clientFromEnvironment } from '../api-client.ts';
import { printJson, printList } from '../output.ts';
import { CliError, EXIT } from '../cli-error.ts';

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('manage your API tokens');

  token
    .command('create')
    .description('create an API token; it is printed once')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--expires <duration>', 'lifetime, e.g. 12h, 30d, 2w; never by default')
    .option('--scope <scope>', 'read or write', 'write')
    .option('--json', 'print {"token": ...} as JSON')
    .action(async (options: { name: string; expires?: string; scope: string; json?: boolean }) => {
      const created = await clientFromEnvironment().call<PublicToken & { token: string }>('POST', '/api/v1/tokens', {
        name: options.name,
        scope: options.scope,
        ...(options.expires && { expiresIn: options.expires }),
      });
      if (options.json) return printJson(created);
      process.stdout.write(`${created.token}\n`);
      process.stderr.write('Store it now: it is not shown again.\n');
    });

  token
    .command('list')
    .description('list your tokens')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const result = await clientFromEnvironment().call<{ tokens: PublicToken[] }>('GET', '/api/v1/tokens');
      printList(Boolean(options.json), result, result.tokens, [
        ['ID', (row) => row.id],
        ['NAME', (row) => row.name],
        ['TOKEN', (row) => `${row.prefix}…`],
        ['SCOPE', tokenReach],
        ['EXPIRES', (row) => (row.expiresAt === null ? 'never' : formatTime(row.expiresAt))],
        ['LAST USED', (row) => formatTime(row.lastUsedAt)],
        ['STATE', (row) => (row.revokedAt !== null ? 'revoked' : 'active')],
      ]);
    });

  token
    .command('revoke')
    .description('revoke a token by its id')
    .argument('<id>', 'token id (see `yard token list`)')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new CliError(`"${id}" is not a token id`, EXIT.usage);
      await clientFromEnvironment().call('DELETE', `/api/v1/tokens/${id}`);
      process.stderr.write(`Revoked token ${id}\n`);
    });
}
