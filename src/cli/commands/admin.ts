import type { Command } from 'commander';
import type { App } from '../../app.ts';
import { formatTime } from '../../lib/format-time.ts';
import { readPassword } from '../input.ts';
import { printJson, printList } from '../output.ts';

const DATA_HELP = 'data directory (default: TRAINYARD_DATA or ~/.local/share/trainyard)';

/** Opens the local database (migrating it if needed) for one command, and closes it after. */
async function withLocalApp<T>(dataDir: string | undefined, work: (app: App) => Promise<T>): Promise<T> {
  // Loaded on demand so the client commands start without the server's modules.
  const [{ createApp }, { loadConfig }, { applyMigrations }, { createLog }] = await Promise.all([
    import('../../app.ts'),
    import('../../config.ts'),
    import('../../db/migrate.ts'),
    import('../../lib/log.ts'),
  ]);
  const app = createApp(loadConfig({ dataDir }), { log: createLog('warn') });
  try {
    applyMigrations(app.db);
    app.projects.ensureDefault();
    return await work(app);
  } finally {
    app.close();
  }
}

/** Works on the data directory itself, so the first admin can be made before any server runs. */
export function adminCommands(program: Command): void {
  const admin = program.command('admin').description('administer the appliance on this machine (needs the data directory)');

  admin
    .command('create-user')
    .description('create a user in the local database')
    .requiredOption('-u, --username <name>', 'username')
    .option('--admin', 'make the user a site admin')
    .option('--display-name <name>', 'full name', '')
    .option('--password-stdin', 'read the password from standard input')
    .option('--data <dir>', DATA_HELP)
    .option('--json', 'print the created user as JSON')
    .action(async (options: { username: string; admin?: boolean; displayName: string; passwordStdin?: boolean; data?: string; json?: boolean }) => {
      const password = await readPassword(Boolean(options.passwordStdin), `Password for ${options.username}: `);
      await withLocalApp(options.data, async (app) => {
        const user = await app.users.create(
          { username: options.username, password, displayName: options.displayName, isAdmin: Boolean(options.admin) },
          { actor: 'cli' },
        );
        if (options.json) printJson({ username: user.username, isAdmin: user.isAdmin });
        else process.stderr.write(`Created ${options.admin ? 'site admin' : 'user'} ${user.username} in ${app.config.dataDir}\n`);
      });
    });

  admin
    .command('users')
    .description('list the users in the local database')
    .option('--data <dir>', DATA_HELP)
    .option('--json', 'print JSON')
    .action(async (options: { data?: string; json?: boolean }) => {
      const { publicUser } = await import('../../auth/users.ts');
      await withLocalApp(options.data, async (app) => {
        const users = app.users.list().map(publicUser);
        printList(Boolean(options.json), { users }, users, [
          ['USERNAME', (user) => user.username],
          ['NAME', (user) => user.displayName],
          ['ADMIN', (user) => (user.isAdmin ? 'yes' : 'no')],
          ['STATE', (user) => (user.disabled ? 'disabled' : 'active')],
          ['CREATED', (user) => formatTime(user.createdAt)],
        ]);
      });
    });
}
