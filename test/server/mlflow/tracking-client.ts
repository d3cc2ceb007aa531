import { expect } from 'vitest';
import type { TestApp } from '../../helpers/test-app.ts';

export const API = '/api/2.0/mlflow';

export interface Answer {
  status: number;
  /** MLflow's JSON, checked field by field in the tests. */
  json: any;
}

type User = { username: string; password: string };

/** HTTP Basic as the mlflow client sends it; usable where the test app does not exist yet (scenario tables). */
export const basicAuth = ({ username, password }: User) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
export type Query = Record<string, string | number | string[]>;

/** The MLflow API as one user sees it, through the in-process router: POSTs send JSON, GETs a query string. */
export function mlflowAs(t: TestApp, user: User, headers: Record<string, string> = {}) {
  const authorization = t.basic(user);
  const call = async (method: string, path: string, body?: string): Promise<Answer> => {
    const response = await t.request(`${API}${path}`, {
      method,
      headers: { Authorization: authorization, ...(body !== undefined && { 'Content-Type': 'application/json' }), ...headers },
      ...(body !== undefined && { body }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const queryString = (query: Query) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
    }
    return params.toString();
  };
  const client = {
    post: (path: string, body: unknown) => call('POST', path, typeof body === 'string' ? body : JSON.stringify(body)),
    get: (path: string, query: Query = {}) => call('GET', `${path}?${queryString(query)}`),
    /** A call that must succeed; its JSON. */
    async ok(method: 'GET' | 'POST', path: string, body: unknown = {}) {
      const answer = method === 'GET' ? await client.get(path, body as Query) : await client.post(path, body);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer.json;
    },
    async createExperiment(name: string, tags: Array<{ key: string; value: string }> = []): Promise<string> {
      return (await client.ok('POST', '/experiments/create', { name, ...(tags.length > 0 && { tags }) })).experiment_id;
    },
    async createRun(experimentId: string, fields: Record<string, unknown> = {}): Promise<string> {
      return (await client.ok('POST', '/runs/create', { experiment_id: experimentId, start_time: 1_700_000_000_000, ...fields })).run.info.run_id;
    },
  };
  return client;
}

export type MlflowClient = ReturnType<typeof mlflowAs>;

/** A user with this role in the default project, or in none. */
export async function addUser(t: TestApp, username: string, role: 'viewer' | 'editor' | 'admin' | undefined): Promise<User> {
  const user = { username, password: `${username}-password-1` };
  await t.app.users.create({ ...user, displayName: username }, { actor: 'test' });
  const project = t.app.projects.ensureDefault();
  if (role) t.app.projects.setMember(project, username, role, { actor: 'test' });
  else t.app.projects.removeMember(project, username, { actor: 'test' });
  return user;
}

/** Expects MLflow's error shape. */
export function expectError(answer: Answer, status: number, code: string, message?: string | RegExp): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  expect(answer.json.error_code).toBe(code);
  if (message !== undefined) expect(answer.json.message).toMatch(message);
}
