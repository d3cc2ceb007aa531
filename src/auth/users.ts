import { z } from 'zod';
import type { Db } from '../db/connection.ts';
import type { Audit } from '../audit/audit.ts';
import { badRequest, conflict, notFound } from '../lib/errors.ts';
import { hashPassword, randomSecret, sha256, verifyPassword } from '../lib/secrets.ts';
import type { Projects } from './projects.ts';
import {
  countActiveAdmins,
  findUserByName,
  insertUser,
  listUsers,
  prepareUserById,
  updateUserRecord,
  type UserRecord,
} from './user-queries.ts';

export type { UserRecord };

export const usernameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'a username is 2-64 lowercase letters, digits, dots, dashes or underscores');
export const passwordSchema = z.string().min(8, 'a password has at least 8 characters').max(1024);

export const newUserSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  displayName: z.string().max(200).default(''),
  isAdmin: z.boolean().default(false),
});

export const userChangesSchema = z.strictObject({
  displayName: z.string().max(200).optional(),
  password: passwordSchema.optional(),
  isAdmin: z.boolean().optional(),
  disabled: z.boolean().optional(),
});

export interface PublicUser {
  id: number;
  username: string;
  displayName: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: number;
}

export function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    isAdmin: user.isAdmin,
    disabled: user.disabledAt !== null,
    createdAt: user.createdAt,
  };
}

type Actor = { actor: string; ip?: string };

export interface Users {
  create(input: z.input<typeof newUserSchema>, by: Actor): Promise<UserRecord>;
  update(username: string, changes: z.input<typeof userChangesSchema>, by: Actor): Promise<UserRecord>;
  /** The active user whose password this is; repeated checks of the same pair skip the deliberate slowness of scrypt. */
  authenticate(username: string, password: string): Promise<UserRecord | undefined>;
  get(username: string): UserRecord;
  byId(id: number): UserRecord | undefined;
  list(): UserRecord[];
  hasAdmin(): boolean;
}

const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1000;

export function createUsers(deps: {
  db: Db;
  audit: Audit;
  projects: Projects;
  now: () => number;
  /** Called when a user's credentials stop being valid, so live sessions end with them. */
  onCredentialsChanged: (user: UserRecord) => void;
}): Users {
  const { db, audit, projects } = deps;
  // HTTP Basic clients (the mlflow client) send the password with every request: remember recent successes.
  const verified = new Map<string, { userId: number; until: number }>();
  let dummyHash: string | undefined;
  const findUserById = prepareUserById(db);

  const get = (username: string) => {
    const user = findUserByName(db, username);
    if (!user) throw notFound(`user "${username}" does not exist`);
    return user;
  };

  return {
    async create(input, by) {
      const { username, password, displayName, isAdmin } = newUserSchema.parse(input);
      if (findUserByName(db, username)) throw conflict(`user "${username}" already exists`);
      const passwordHash = await hashPassword(password);
      const user = db.transaction(() => {
        const created = insertUser(db, { username, displayName, passwordHash, isAdmin, createdAt: deps.now() });
        projects.setMember(projects.ensureDefault(), username, 'editor', by);
        return created;
      });
      audit.record({ ...by, action: 'user.create', target: username, detail: { isAdmin } });
      return user;
    },
    async update(username, input, by) {
      const changes = userChangesSchema.parse(input);
      const user = get(username);
      const losesAdmin = user.isAdmin && (changes.isAdmin === false || changes.disabled === true);
      if (losesAdmin && user.disabledAt === null && countActiveAdmins(db) <= 1) {
        throw badRequest(`"${username}" is the last active admin: make another admin first`);
      }
      const updated = updateUserRecord(db, user.id, {
        ...(changes.displayName !== undefined && { displayName: changes.displayName }),
        ...(changes.isAdmin !== undefined && { isAdmin: changes.isAdmin }),
        ...(changes.disabled !== undefined && { disabledAt: changes.disabled ? deps.now() : null }),
        ...(changes.password !== undefined && { passwordHash: await hashPassword(changes.password) }),
      });
      if (changes.password !== undefined || changes.disabled === true) {
        verified.clear();
        deps.onCredentialsChanged(updated);
      }
      const { password, ...logged } = changes;
      audit.record({ ...by, action: 'user.update', target: username, detail: { ...logged, passwordChanged: password !== undefined } });
      return updated;
    },
    async authenticate(username, password) {
      const key = sha256(`${username}\u0000${password}`);
      const hit = verified.get(key);
      const now = deps.now();
      if (hit && hit.until > now) {
        const user = findUserById(hit.userId);
        if (user && user.disabledAt === null) return user;
      }
      const user = findUserByName(db, username);
      // An unknown name costs as much as a wrong password, so response times do not reveal who has an account.
      dummyHash ??= await hashPassword(randomSecret());
      const matches = await verifyPassword(password, user?.passwordHash ?? dummyHash);
      if (!user || user.disabledAt !== null || !matches) return undefined;
      if (verified.size >= VERIFIED_MAX) verified.clear();
      verified.set(key, { userId: user.id, until: now + VERIFIED_TTL_MS });
      return user;
    },
    get,
    byId: findUserById,
    list: () => listUsers(db),
    hasAdmin: () => countActiveAdmins(db) > 0,
  };
}
