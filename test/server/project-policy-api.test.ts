import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser } from './mlflow/tracking-client.ts';

type User = { username: string; password: string };

let t: TestApp;
let dataDir: string;
/** A host folder outside the data directory, the kind a site admin shares with a project. */
const shared = mkdtempSync(join(tmpdir(), 'trainyard-shared-'));
let projectAdmin: User;

const basic = ({ username, password }: User) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function call(method: string, path: string, user: User, body?: unknown) {
  const response = await t.request(path, {
    method,
    headers: { Authorization: basic(user), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** `<data>` in a row stands for the test app's data directory, `<shared>` for the shared folder. */
function fill<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('<data>', dataDir).replaceAll('<shared>', shared) as T;
  if (Array.isArray(value)) return value.map(fill) as T;
  // Plain objects only: matchers such as expect.any() stay as they are.
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, fill(entry)])) as T;
  }
  return value;
}

beforeAll(async () => {
  t = await createTestApp();
  dataDir = t.app.config.dataDir;
  symlinkSync(dataDir, join(shared, 'to-data'));
  projectAdmin = await addUser(t, 'pat', 'admin');
  const admin = { actor: 'test' };
  t.app.projects.create({ name: 'vision' }, admin);
  t.app.projects.setMember(t.app.projects.get('vision'), MEMBER.username, 'editor', admin);
  t.app.projects.create({ name: 'secret' }, admin);
});
afterAll(() => rmSync(shared, { recursive: true, force: true }));

const DEFAULTS = { project: 'default', allowPrivileged: false, allowHostNetwork: false, allowedHostPaths: [], allowedCapabilities: [], updatedAt: null, updatedBy: null };
const POLICY = '/api/v1/projects/default/security-policy';

describe('GET and PUT /api/v1/projects/:name/security-policy', () => {
  const rows: Array<{ name: string; method: 'GET' | 'PUT'; path?: string; as?: () => User; body?: unknown; status: number; json?: Record<string, unknown>; message?: RegExp }> = [
    { name: 'a member reads the defaults', method: 'GET', as: () => MEMBER, status: 200, json: { policy: DEFAULTS } },
    { name: 'a member may not set it', method: 'PUT', as: () => MEMBER, body: { allowPrivileged: true }, status: 403, message: /only site admins/ },
    { name: 'nor may a project admin who is not a site admin', method: 'PUT', as: () => projectAdmin, body: { allowPrivileged: true }, status: 403, message: /only site admins/ },
    {
      name: 'a site admin sets it; capabilities in any spelling are kept once, as Docker names them',
      method: 'PUT',
      body: { allowPrivileged: true, allowedHostPaths: ['<shared>', '<shared>'], allowedCapabilities: ['cap_sys_ptrace', 'SYS_PTRACE', 'NET_ADMIN'] },
      status: 200,
      json: { policy: { ...DEFAULTS, allowPrivileged: true, allowedHostPaths: ['<shared>'], allowedCapabilities: ['SYS_PTRACE', 'NET_ADMIN'], updatedAt: expect.any(Number), updatedBy: ADMIN.username } },
    },
    { name: 'a member reads what the site admin set', method: 'GET', as: () => MEMBER, status: 200, json: { policy: { allowPrivileged: true, allowedCapabilities: ['SYS_PTRACE', 'NET_ADMIN'], updatedBy: ADMIN.username } } },
    { name: 'a relative host path', method: 'PUT', body: { allowedHostPaths: ['srv/data'] }, status: 400, message: /allowedHostPaths\.0: "srv\/data" must be an absolute, normalized path/ },
    { name: 'a host path with ".."', method: 'PUT', body: { allowedHostPaths: ['/srv/../etc'] }, status: 400, message: /must be an absolute, normalized path/ },
    { name: 'a host path with a trailing "/"', method: 'PUT', body: { allowedHostPaths: ['/srv/data/'] }, status: 400, message: /no trailing "\/"/ },
    { name: 'the whole host', method: 'PUT', body: { allowedHostPaths: ['/'] }, status: 400, message: /the whole host \("\/"\) cannot be allowed/ },
    { name: 'the data directory', method: 'PUT', body: { allowedHostPaths: ['<data>'] }, status: 400, message: /is inside or above Trainyard's data directory .* where its database and secrets are/ },
    { name: 'a folder inside the data directory', method: 'PUT', body: { allowedHostPaths: ['<data>/outputs'] }, status: 400, message: /outputs is inside or above Trainyard's data directory/ },
    { name: 'a link to the data directory', method: 'PUT', body: { allowedHostPaths: ['<shared>/to-data'] }, status: 400, message: /to-data is inside or above Trainyard's data directory/ },
    { name: 'a folder above the data directory', method: 'PUT', body: { allowedHostPaths: [tmpdir()] }, status: 400, message: /is inside or above Trainyard's data directory/ },
    { name: 'an unknown capability', method: 'PUT', body: { allowedCapabilities: ['SYS_PTRACE', 'FLY'] }, status: 400, message: /allowedCapabilities\.1: "FLY" is not a Linux capability/ },
    { name: 'ALL, which is privileged mode by another name', method: 'PUT', body: { allowedCapabilities: ['ALL'] }, status: 400, message: /"ALL" is not a Linux capability/ },
    { name: 'an unknown field', method: 'PUT', body: { allowPrivileged: true, allowDevices: true }, status: 400, message: /unknown field allowDevices/ },
    { name: 'a flag that is not a boolean', method: 'PUT', body: { allowHostNetwork: 'yes' }, status: 400, message: /allowHostNetwork/ },
    { name: 'a refused PUT changes nothing', method: 'GET', status: 200, json: { policy: { allowPrivileged: true, allowedHostPaths: ['<shared>'] } } },
    { name: 'an unknown project (GET)', method: 'GET', path: '/api/v1/projects/atlantis/security-policy', status: 404, message: /project "atlantis" does not exist/ },
    { name: 'an unknown project (PUT)', method: 'PUT', path: '/api/v1/projects/atlantis/security-policy', body: {}, status: 404, message: /project "atlantis" does not exist/ },
    { name: 'a project the caller may not see', method: 'GET', path: '/api/v1/projects/secret/security-policy', as: () => MEMBER, status: 404, message: /project "secret" does not exist/ },
  ];
  for (const row of rows) {
    it(`${row.status}: ${row.name}`, async () => {
      const { status, json } = await call(row.method, row.path ?? POLICY, row.as?.() ?? ADMIN, row.body === undefined ? undefined : fill(row.body));
      expect(status, JSON.stringify(json)).toBe(row.status);
      if (row.json) expect(json).toMatchObject(fill(row.json));
      if (row.message) expect(json.message).toMatch(row.message);
    });
  }

  it('setting it is in the audit log with the policy; an empty PUT goes back to the defaults', async () => {
    const event = t.app.audit.list().find((entry) => entry.action === 'policy.set');
    expect(event).toMatchObject({ actor: ADMIN.username, target: 'default', detail: { allowPrivileged: true, allowedCapabilities: ['SYS_PTRACE', 'NET_ADMIN'] } });
    const reset = await call('PUT', POLICY, ADMIN, {});
    expect(reset.json).toMatchObject({ policy: { ...DEFAULTS, updatedAt: expect.any(Number), updatedBy: ADMIN.username } });
  });
});

describe('POST /api/v1/jobs under the project\'s security policy', () => {
  const submit = (fields: Record<string, unknown>) => call('POST', '/api/v1/jobs', MEMBER, { project: 'vision', command: ['true'], ...fields });
  const asks: Array<{ name: string; fields: Record<string, unknown>; refusal: string; stored: Record<string, unknown> }> = [
    { name: 'privileged mode', fields: { privileged: true }, refusal: 'privileged mode', stored: { privileged: true } },
    { name: 'the host network', fields: { hostNetwork: true }, refusal: 'the host network', stored: { hostNetwork: true } },
    {
      name: 'a host folder',
      fields: { mounts: [{ hostPath: '<shared>/imagenet', containerPath: '/data' }] },
      refusal: 'host path <shared>/imagenet',
      stored: { mounts: [{ hostPath: '<shared>/imagenet', containerPath: '/data', readOnly: true }] },
    },
    { name: 'a capability', fields: { capabilities: ['cap_sys_ptrace'] }, refusal: 'capability SYS_PTRACE', stored: { capabilities: ['SYS_PTRACE'] } },
  ];

  for (const ask of asks) {
    it(`refuses ${ask.name} with a 403 under the default policy`, async () => {
      const { status, json } = await submit(fill(ask.fields));
      expect(status).toBe(403);
      expect(json).toMatchObject({ error_code: 'PERMISSION_DENIED' });
      expect(json.message).toContain(fill(`the security policy of project "vision" does not allow ${ask.refusal}`));
      expect(json.message).toContain('a site admin can allow it for the project');
    });
  }

  it('refuses a host folder inside the data directory, though Trainyard mounts its own folders from there', async () => {
    const { status, json } = await submit(fill({ mounts: [{ hostPath: '<data>/outputs/1', containerPath: '/peek' }] }));
    expect(status).toBe(403);
    expect(json.message).toContain(`host path ${dataDir}/outputs/1`);
  });

  it('names everything the policy does not allow at once', async () => {
    const { json } = await submit({ privileged: true, hostNetwork: true, capabilities: ['NET_ADMIN', 'SYS_PTRACE'] });
    expect(json.message).toBe(
      'the security policy of project "vision" does not allow privileged mode, the host network, capability NET_ADMIN, capability SYS_PTRACE; a site admin can allow it for the project',
    );
  });

  for (const ask of asks) {
    it(`queues a job asking for ${ask.name} once a site admin allows it, and stores what it asked`, async () => {
      const allowed = await call('PUT', '/api/v1/projects/vision/security-policy', ADMIN, fill({ allowPrivileged: true, allowHostNetwork: true, allowedHostPaths: ['<shared>'], allowedCapabilities: ['SYS_PTRACE'] }));
      expect(allowed.status).toBe(200);
      const { status, json } = await submit(fill(ask.fields));
      expect(status, JSON.stringify(json)).toBe(201);
      const job = t.app.jobs.byId((json.job as { id: number }).id)!;
      expect(job).toMatchObject({ privileged: false, hostNetwork: false, mounts: [], capabilities: [], ...fill(ask.stored) });
    });
  }

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a relative host path', { mounts: [{ hostPath: 'data', containerPath: '/data' }] }, /mounts\.0\.hostPath: hostPath must be an absolute, normalized path/],
    ['a container path with ".."', { mounts: [{ hostPath: '<shared>', containerPath: '/data/../etc' }] }, /containerPath must be an absolute, normalized path/],
    ['a mount over the workspace', { mounts: [{ hostPath: '<shared>', containerPath: '/workspace' }] }, /containerPath \/workspace is reserved/],
    ['a mount inside the outputs', { mounts: [{ hostPath: '<shared>', containerPath: '/outputs/extra' }] }, /containerPath \/outputs\/extra is reserved/],
    ['a mount over a system folder', { mounts: [{ hostPath: '<shared>', containerPath: '/proc/self' }] }, /containerPath \/proc\/self is reserved/],
    ['a mount over the root', { mounts: [{ hostPath: '<shared>', containerPath: '/' }] }, /containerPath \/ is reserved/],
    ['two mounts at one place', { mounts: [{ hostPath: '<shared>', containerPath: '/data' }, { hostPath: '<shared>/b', containerPath: '/data' }] }, /two mounts have the same containerPath/],
    ['an unknown mount field', { mounts: [{ hostPath: '<shared>', containerPath: '/data', propagation: 'shared' }] }, /unknown field propagation/],
    ['an unknown capability', { capabilities: ['SYS_PTRACE', 'TELEPORT'] }, /capabilities\.1: "TELEPORT" is not a Linux capability/],
    ['privileged as text', { privileged: 'yes' }, /privileged/],
  ];
  for (const [name, fields, message] of invalid) {
    it(`400 for ${name}, even where the policy allows the rest`, async () => {
      const { status, json } = await submit(fill(fields));
      expect(status).toBe(400);
      expect(json.message).toMatch(message);
    });
  }
});
