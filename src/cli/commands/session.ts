import type { Command } from 'commander';
import { createApiClient, clientFromEnvironment, DEFAULT_URL } from '../api-client.ts';
import { forgetLogin, readLogin, writeLogin } from '../credentials-file.ts';
import { readPassword } from '../input.ts';
import { printJson } from '../output.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { hostname, userInfo } from 'node:os';

interface Whoami {
  user: { username: string; displayName: string; isAdmin: boolean };
  via: string;
  scope: string;
  projects: Array<{ name: string; role: string }>;
}

export function sessionCommands(program: Command): void {
  program
    .command('login')
    .description('sign in to a Trainyard server and store a fresh API token for the CLI')
    .argument('[url]', 'server URL', process.env.TRAINYARD_URL || DEFAULT_URL)
    .option('-u, --username <name>', 'username (default: your login name)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--expires <duration>', 'token lifetime, e.g. 30d; never by default')
    .action(async (url: string, options: { username?: string; passwordStdin?: boolean; expires?: string }) => {
      const username = options.username ?? userInfo().username;
      const password = await readPassword(Boolean(options.passwordStdin), `Password for ${username} at ${url}: `);
      const client = createApiClient(url, `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
      const created = await client.call<{ token: string; id: number }>('POST', '/api/v1/tokens', {
        name: `yard on ${hostname()}`,
        ...(options.expires && { expiresIn: options.expires }),
      });
      const path = writeLogin({ url: client.url, username, token: created.token, tokenId: created.id });
      process.stderr.write(`Signed in to ${client.url} as ${username}; token stored in ${path}\n`);
    });

  program
    .command('logout')
    .description('revoke the stored token and forget it')
    .action(async () => {
      const stored = readLogin();
      if (!stored) throw new CliError('not signed in', EXIT.auth);
      try {
        await clientFromEnvironment().call('DELETE', `/api/v1/tokens/${stored.tokenId}`);
      } finally {
        forgetLogin();
      }
      process.stderr.write(`Signed out of ${stored.url}\n`);
    });

  program
    .command('whoami')
    .description('show who the CLI is signed in as')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const client = clientFromEnvironment();
      const me = await client.call<Whoami>('GET', '/api/v1/whoami');
      if (options.json) return printJson({ url: client.url, ...me });
      const projects = me.projects.map((project) => `${project.name} (${project.role})`).join(', ') || 'none';
      process.stdout.write(
        `${me.user.username}${me.user.isAdmin ? ' (site admin)' : ''} at ${client.url}\n` +
          `token scope: ${me.scope}\nprojects: ${projects}\n`,
      );
    });
}
