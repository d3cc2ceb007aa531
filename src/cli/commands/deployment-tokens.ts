import type { Command } from 'commander';
import { formatTime } from '../../lib/format-time.ts';
import type { DeploymentTokenJson } from '../../serving/deployment-tokens.ts';
import { clientFromEnvironment } from '../api-client.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { printJson, printList } from '../output.ts';

const tokensPath = (deployment: string) => `/api/v1/deployments/${encodeURIComponent(deployment)}/tokens`;

/** `yard deployments token create|list|revoke <deployment>`: tokens that may call one deployment and nothing else. */
export function deploymentTokenCommands(deployments: Command): void {
  const token = deployments.command('token').description('tokens that may call one deployment through /serve/<name>/... and nothing else');

  token
    .command('create')
    .description('create a token for a deployment; it is printed once')
    .argument('<deployment>', 'the deployment it may call')
    .requiredOption('--name <name>', 'who or what holds it, e.g. "billing service"')
    .option('--expires <duration>', 'lifetime, e.g. 12h, 30d, 2w; never by default')
    .option('--json', 'print the token, with its secret as "token", as JSON')
    .action(async (deployment: string, options: { name: string; expires?: string; json?: boolean }) => {
      const created = await clientFromEnvironment().call<DeploymentTokenJson & { token: string }>('POST', tokensPath(deployment), {
        name: options.name,
        ...(options.expires && { expiresIn: options.expires }),
      });
      if (options.json) return printJson(created);
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`It may call /serve/${deployment}/... only. Store it now: it is not shown again.\n`);
    });

  token
    .command('list')
    .description("list a deployment's tokens (never their secrets)")
    .argument('<deployment>', 'the deployment')
    .option('--json', 'print JSON')
    .action(async (deployment: string, options: { json?: boolean }) => {
      const result = await clientFromEnvironment().call<{ tokens: DeploymentTokenJson[] }>('GET', tokensPath(deployment));
      printList(Boolean(options.json), result, result.tokens, [
        ['ID', (row) => row.id],
        ['NAME', (row) => row.name],
        ['TOKEN', (row) => `${row.prefix}…`],
        ['CREATED BY', (row) => row.createdBy],
        ['EXPIRES', (row) => (row.expiresAt === null ? 'never' : formatTime(row.expiresAt))],
        ['LAST USED', (row) => formatTime(row.lastUsedAt)],
        ['STATE', (row) => (row.revokedAt !== null ? 'revoked' : 'active')],
      ]);
    });

  token
    .command('revoke')
    .description("revoke one of a deployment's tokens by its id")
    .argument('<deployment>', 'the deployment')
    .argument('<id>', 'token id (see `yard deployments token list <deployment>`)')
    .action(async (deployment: string, id: string) => {
      if (!/^\d+$/.test(id)) throw new CliError(`"${id}" is not a token id`, EXIT.usage);
      await clientFromEnvironment().call('DELETE', `${tokensPath(deployment)}/${id}`);
      process.stderr.write(`Revoked token ${id} of deployment ${deployment}\n`);
    });
}
