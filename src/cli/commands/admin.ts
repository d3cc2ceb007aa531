import type { Command } from 'commander';
import type { App } from '../../app.ts';
import type { ProjectSecurityPolicy } from '../../auth/projects.ts';
import { formatTime } from '../../lib/format-time.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { readPassword } from '../input.ts';
import { printJson, printList } from '../output.ts';

const DATA_HELP = 'data directory (default: TRAINYARD_DATA or ~/.local/share/trainyard)';

const collect = (value: string, previous: string[]) => [...previous, value];

interface PolicyOptions {
  allowPrivileged?: boolean;
  allowHostNetwork?: boolean;
  allowHostPath: string[];
  allowCap: string[];
  reset?: boolean;
  data?: string;
  json?: boolean;
}

const allowedOrNot = (allowed: boolean) => (allowed ? 'allowed' : 'not allowed');
const listOrNone = (values: readonly string[]) => (values.length > 0 ? values.join(', ') : 'none');

function printPolicy(policy: ProjectSecurityPolicy): void {
  const lines: Array<[string, string]> = [
    ['project', policy.project],
    ['privileged', allowedOrNot(policy.allowPrivileged)],
    ['host network', allowedOrNot(policy.allowHostNetwork)],
    ['host paths', listOrNone(policy.allowedHostPaths)],
    ['capabilities', listOrNone(policy.allowedCapabilities)],
    ['set', policy.updatedAt === null ? 'never (the defaults)' : `${formatTime(policy.updatedAt)} by ${policy.updatedBy}`],
  ];
  for (const [name, value] of lines) process.stdout.write(`${name.padEnd(14)}${value}
`);
}

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

  admin
    .command('project-policy')
    .description("show a project's security policy, or replace it: what its jobs' containers may do beyond the safe defaults")
    .argument('<project>', 'project name')
    .option('--allow-privileged', 'allow privileged containers')
    .option('--allow-host-network', 'allow the host network')
    .option('--allow-host-path <path>', 'allow bind mounts of this absolute host folder and below it (repeatable)', collect, [])
    .option('--allow-cap <capability>', 'allow adding this Linux capability, e.g. SYS_PTRACE (repeatable)', collect, [])
    .option('--reset', 'back to the defaults: none of the above')
    .option('--data <dir>', DATA_HELP)
    .option('--json', 'print the policy as JSON')
    .addHelpText('after', '\nThe options name the whole policy: what they leave out is no longer allowed. With none, the policy is shown.')
    .action(async (name: string, options: PolicyOptions) => {
      const allowances = {
        ...(options.allowPrivileged && { allowPrivileged: true }),
        ...(options.allowHostNetwork && { allowHostNetwork: true }),
        ...(options.allowHostPath.length > 0 && { allowedHostPaths: options.allowHostPath }),
        ...(options.allowCap.length > 0 && { allowedCapabilities: options.allowCap }),
      };
      const changes = Object.keys(allowances).length > 0;
      if (options.reset && changes) throw new CliError('--reset goes back to the defaults: give it alone, or give the --allow options alone', EXIT.usage);
      await withLocalApp(options.data, async (app) => {
        const project = app.projects.get(name);
        const policy = options.reset || changes ? app.projects.setSecurityPolicy(project, allowances, { actor: 'cli' }) : app.projects.securityPolicy(project.id);
        if (options.json) printJson({ policy });
        else printPolicy(policy);
      });
    });
}
