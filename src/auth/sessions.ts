import type { Db } from '../db/connection.ts';
import { randomSecret, sha256 } from '../lib/secrets.ts';
import type { UserRecord } from './user-queries.ts';
import {
  deleteExpiredSessions,
  deleteSession,
  deleteSessionsOfUser,
  extendSession,
  findLiveSession,
  insertSession,
} from './session-queries.ts';

export interface LiveSession {
  user: UserRecord;
  csrfToken: string;
  expiresAt: number;
}

export interface Sessions {
  /** The cookie value is returned once and only its digest is stored. */
  start(user: UserRecord, client: { ip: string; userAgent: string }): { cookieValue: string } & LiveSession;
  resolve(cookieValue: string): LiveSession | undefined;
  end(cookieValue: string): void;
  endAllOf(user: UserRecord): void;
  sweep(): number;
}

export function createSessions(deps: { db: Db; now: () => number; ttlMs: number }): Sessions {
  const { db, ttlMs } = deps;
  return {
    start(user, client) {
      const cookieValue = randomSecret();
      const csrfToken = randomSecret();
      const createdAt = deps.now();
      const expiresAt = createdAt + ttlMs;
      insertSession(db, {
        idHash: sha256(cookieValue),
        userId: user.id,
        csrfToken,
        createdAt,
        expiresAt,
        ip: client.ip,
        userAgent: client.userAgent.slice(0, 300),
      });
      return { cookieValue, user, csrfToken, expiresAt };
    },
    resolve(cookieValue) {
      const idHash = sha256(cookieValue);
      const now = deps.now();
      const found = findLiveSession(db, idHash, now);
      if (!found || found.user.disabledAt !== null) return undefined;
      let { expiresAt } = found.session;
      // Sliding expiry, written at most once per half-life so reads stay reads.
      if (expiresAt - now < ttlMs / 2) {
        expiresAt = now + ttlMs;
        extendSession(db, idHash, expiresAt);
      }
      return { user: found.user, csrfToken: found.session.csrfToken, expiresAt };
    },
    end(cookieValue) {
      deleteSession(db, sha256(cookieValue));
    },
    endAllOf(user) {
      deleteSessionsOfUser(db, user.id);
    },
    sweep() {
      return deleteExpiredSessions(db, deps.now());
    },
  };
}
