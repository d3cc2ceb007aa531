import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { runScript, type Finished } from '../helpers/processes.ts';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const dataDir = temp('trainyard-cli-data-');
const configHome = temp('trainyard-cli-config-');
const env = { XDG_CONFIG_HOME: configHome, TRAINYARD_URL: '', TRAINYARD_TOKEN: '' };
const yard = (args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Finished> =>
  runScript('src/cli/yard.ts', args, { env: { ...env, ...extraEnv }, ...(input !== undefined && { input }) });

let appliance: Appliance;

beforeAll(async () => {
  // The first admin comes from the CLI, before any server runs.
  const created = await yard(['admin', 'create-user', '--admin', '-u', 'ops', '--password-stdin', '--data', dataDir, '--json'], 'ops-password-1\n');
  expect(created.stderr).toBe('');
  expect(JSON.parse(created.stdout)).toEqual({ username: 'ops', isAdmin: true });
  appliance = await startAppliance(loadConfig({ dataDir, port: 0, logLevel: 'silent' }, {}));
});
afterAll(async () => appliance?.close());

describe('yard', () => {
  it('login stores a token readable by its owner only, and whoami uses it', async () => {
    const login = await yard(['login', appliance.url, '-u', 'ops', '--password-stdin'], 'ops-password-1');
    expect(login.code, login.stderr).toBe(0);
    const file = join(configHome, 'trainyard', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const me = await yard(['whoami', '--json']);
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ url: appliance.url, user: { username: 'ops', isAdmin: true }, via: 'token' });
  });

  it('token create --json prints the token, list shows it, revoke ends it', async () => {
    const created = await yard(['token', 'create', '--name', 'ci', '--expires', '30d', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: number };
    expect(token).toMatch(/^ty_/);

    const listed = JSON.parse((await yard(['token', 'list', '--json'])).stdout) as { tokens: Array<{ id: number; name: string }> };
    expect(listed.tokens.map((entry) => entry.name)).toContain('ci');
    const table = await yard(['token', 'list']);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+TOKEN/);

    expect((await yard(['whoami'], undefined, { TRAINYARD_TOKEN: token })).code).toBe(0);
    expect((await yard(['token', 'revoke', String(id)])).code).toBe(0);
    const refused = await yard(['whoami'], undefined, { TRAINYARD_TOKEN: token });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('invalid, expired or revoked');
  });

  it.each([
    ['an unknown command', ['frob'], '', 2, /unknown command/],
    ['a missing required option', ['token', 'create'], '', 2, /--name/],
    ['a token id that is not a number', ['token', 'revoke', 'abc'], '', 2, /not a token id/],
    ['a wrong password', ['login', 'URL', '-u', 'ops', '--password-stdin'], 'wrong-password', 3, /wrong username or password/],
    ['an empty password', ['login', 'URL', '-u', 'ops', '--password-stdin'], '', 2, /password is empty/],
    ['a server that is not there', ['login', 'http://127.0.0.1:1', '-u', 'ops', '--password-stdin'], 'x', 1, /cannot reach/],
    ['a duplicate user', ['admin', 'create-user', '-u', 'ops', '--password-stdin', '--data', dataDir], 'another-password', 1, /already exists/],
    ['a weak password', ['admin', 'create-user', '-u', 'newbie', '--password-stdin', '--data', dataDir], 'short', 2, /at least 8/],
  ])('exits with a clear message on %s', async (_name, args, input, code, message) => {
    const result = await yard(args.map((arg) => (arg === 'URL' ? appliance.url : arg)), input);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('logout revokes the stored token; afterwards commands ask to log in', async () => {
    expect((await yard(['logout'])).code).toBe(0);
    const after = await yard(['whoami']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('yard login');
  });
});
