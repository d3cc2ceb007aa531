import { ZodError } from 'zod';
import { ConfigError } from '../lib/errors.ts';
import type { Projects } from './projects.ts';
import type { Users } from './users.ts';

/**
 * There is no default password: the first admin comes from TRAINYARD_ADMIN_PASSWORD on a first start,
 * or from `yard admin create-user --admin`; without either the appliance refuses to run.
 */
export async function bootstrapAuth(deps: {
  users: Users;
  projects: Projects;
  adminUsername: string;
  adminPassword?: string;
}): Promise<'created-admin' | 'ready'> {
  deps.projects.ensureDefault();
  if (deps.users.hasAdmin()) return 'ready';
  if (!deps.adminPassword) {
    throw new ConfigError(
      'no admin user exists: create one with `yard admin create-user --admin --username NAME` ' +
        '(password on a prompt or --password-stdin), or start once with TRAINYARD_ADMIN_PASSWORD set',
    );
  }
  try {
    await deps.users.create(
      { username: deps.adminUsername, password: deps.adminPassword, isAdmin: true, displayName: 'Administrator' },
      { actor: 'system' },
    );
  } catch (error) {
    if (error instanceof ZodError) {
      throw new ConfigError(`cannot create the first admin: ${error.issues[0]?.message ?? error.message}`);
    }
    throw error;
  }
  return 'created-admin';
}
