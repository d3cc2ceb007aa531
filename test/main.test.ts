import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, ROOT, runScript, waitForUrl } from './helpers/processes.ts';

const temp = () => mkdtempSync(join(tmpdir(), 'trainyard-main-'));

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const serverEnv = (dataDir: string, port: number, extra: NodeJS.ProcessEnv = {}) => ({
  TRAINYARD_DATA: dataDir,
  TRAINYARD_PORT: String(port),
  TRAINYARD_HOST: '127.0.0.1',
  TRAINYARD_LOG_LEVEL: 'warn',
  TRAINYARD_CONFIG: '',
  ...extra,
});

describe('the server process', () => {
  it.each([
    ['no admin exists', () => serverEnv(temp(), 0), /no admin user exists: create one with `yard admin create-user --admin/],
    ['the first admin password is too short', () => serverEnv(temp(), 0, { TRAINYARD_ADMIN_PASSWORD: 'short' }), /cannot create the first admin: a password has at least 8 characters/],
    ['the port is not a number', () => ({ ...serverEnv(temp(), 0), TRAINYARD_PORT: 'http' }), /invalid setting port \(TRAINYARD_PORT\)/],
    ['the data directory cannot be written', () => {
      const file = join(temp(), 'not-a-directory');
      writeFileSync(file, '');
      return serverEnv(join(file, 'data'), 0, { TRAINYARD_ADMIN_PASSWORD: 'long-enough-1' });
    }, /data directory .* cannot be written/],
  ])('refuses to start with one line when %s', async (_name, env, message) => {
    const result = await runScript('src/main.ts', [], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says so when the port is in use', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const result = await runScript('src/main.ts', [], { env: serverEnv(temp(), port, { TRAINYARD_ADMIN_PASSWORD: 'long-enough-1' }) });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`port 127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('finishes the request in flight on SIGTERM, then exits 0 and keeps the data', async () => {
    const dataDir = temp();
    chmodSync(dataDir, 0o700);
    const port = await freePort();
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...serverEnv(dataDir, port, { TRAINYARD_ADMIN_PASSWORD: 'long-enough-1' }) },
      stdio: 'pipe',
    });
    const exited = finished(child);
    await waitForUrl(`http://127.0.0.1:${port}/health`);

    const body = JSON.stringify({ name: 'made-during-shutdown' });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/tokens',
          auth: 'admin:long-enough-1',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (incoming) => {
          let text = '';
          incoming.on('data', (chunk: Buffer) => (text += chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write(body.slice(0, 5));
      // The request is in flight when the signal arrives; its body completes afterwards.
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => outgoing.end(body.slice(5)), 300);
      }, 200);
    });

    const answered = await response;
    expect(answered.status).toBe(201);
    expect(JSON.parse(answered.text)).toMatchObject({ name: 'made-during-shutdown' });
    const result = await exited;
    expect(result.code).toBe(0);

    // A second start on the same data keeps the admin and the token (and needs no admin password).
    const again = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, ...serverEnv(dataDir, port) }, stdio: 'pipe' });
    const againExited = finished(again);
    try {
      await waitForUrl(`http://127.0.0.1:${port}/health`);
      const tokens = await fetch(`http://127.0.0.1:${port}/api/v1/tokens`, {
        headers: { Authorization: `Basic ${Buffer.from('admin:long-enough-1').toString('base64')}` },
      });
      expect(JSON.stringify(await tokens.json())).toContain('made-during-shutdown');
    } finally {
      again.kill('SIGINT');
    }
    expect((await againExited).code).toBe(0);
  });
});
