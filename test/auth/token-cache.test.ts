import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

const by = { actor: 'test' };
const HOUR = 3_600_000;

interface Holder {
  username: string;
  secret: string;
  tokenId: number;
  runUuid: string;
}

interface Scenario {
  name: string;
  /** A site admin's token (to probe an admin-only endpoint), a user's own, or one bound to a run expiring in `expiresInMs`. */
  token: { kind: 'admin' } | { kind: 'user' } | { kind: 'run'; expiresInMs: number };
  /** A request the fresh token may make (a job's token may only use MLflow, on its own run). */
  probe: (holder: Holder) => string;
  /** What happens after the token has been used (and so remembered). */
  change: (holder: Holder) => Promise<void> | void;
  after: number;
}

const asAdmin = (method: string, path: string, body?: unknown) =>
  t.request(path, {
    method,
    headers: { Authorization: t.basic(ADMIN), 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

const whoami = () => '/api/v1/whoami';
const ownRun = ({ runUuid }: Holder) => `/api/2.0/mlflow/runs/get?run_id=${runUuid}`;

const scenarios: Scenario[] = [
  {
    name: 'revoked by its owner is refused at once',
    token: { kind: 'user' },
    probe: whoami,
    change: async ({ secret, tokenId }) => {
      const response = await t.request(`/api/v1/tokens/${tokenId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${secret}` } });
      expect(response.status).toBe(200);
    },
    after: 401,
  },
  {
    name: "revoked with its job's run is refused at once",
    token: { kind: 'run', expiresInMs: HOUR },
    probe: ownRun,
    change: ({ runUuid }) => void expect(t.app.tokens.revokeForRun(runUuid, by)).toBe(1),
    after: 401,
  },
  {
    name: 'expiring while remembered is refused at once',
    token: { kind: 'run', expiresInMs: 5_000 },
    probe: ownRun,
    change: () => t.clock.advance(5_000),
    after: 401,
  },
  {
    name: 'of a user who is then disabled is refused at once',
    token: { kind: 'user' },
    probe: whoami,
    change: async ({ username }) => void expect((await asAdmin('PATCH', `/api/v1/users/${username}`, { disabled: true })).status).toBe(200),
    after: 401,
  },
  {
    name: 'of an admin who is then demoted loses admin rights at once',
    token: { kind: 'admin' },
    probe: () => '/api/v1/users',
    change: async ({ username }) => void expect((await asAdmin('PATCH', `/api/v1/users/${username}`, { isAdmin: false })).status).toBe(200),
    after: 403,
  },
  {
    name: 'left alone keeps working after it is read again',
    token: { kind: 'user' },
    probe: whoami,
    change: () => t.clock.advance(60_000),
    after: 200,
  },
  {
    name: 'revoked behind the appliance’s back is refused within seconds',
    token: { kind: 'user' },
    probe: whoami,
    change: ({ tokenId }) => {
      t.app.db.$client.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(t.clock.now, tokenId);
      t.clock.advance(10_000);
    },
    after: 401,
  },
];

describe('a token used a moment ago', () => {
  let users = 0;

  async function holderFor(token: Scenario['token']): Promise<Holder> {
    const username = `holder-${++users}`;
    const user = await t.app.users.create({ username, password: 'holder-password-1', isAdmin: token.kind === 'admin' }, by);
    if (token.kind !== 'run') {
      const { secret, token: created } = t.app.tokens.create(user, { name: 'laptop' }, by);
      return { username, secret, tokenId: created.id, runUuid: '' };
    }
    const runUuid = t.app.tracking.runs.create({ user }, { experiment_id: '0' }).run.info.run_id;
    const { secret, token: created } = t.app.tokens.createForRun(user, { runUuid, name: 'job', expiresAt: t.clock.now + token.expiresInMs }, by);
    return { username, secret, tokenId: created.id, runUuid };
  }

  it.each(scenarios)('$name', async ({ token, probe, change, after }) => {
    const holder = await holderFor(token);
    const call = () => t.request(probe(holder), { headers: { Authorization: `Bearer ${holder.secret}` } });
    for (let use = 0; use < 2; use++) expect((await call()).status).toBe(200);
    await change(holder);
    const response = await call();
    expect(response.status).toBe(after);
    if (after === 401) expect(await response.json()).toMatchObject({ error_code: 'UNAUTHENTICATED', message: expect.stringContaining('invalid, expired or revoked') });
  });
});
