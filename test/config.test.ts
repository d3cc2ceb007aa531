import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/lib/errors.ts';

const configFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'trainyard-config-')), 'trainyard.yaml');
  writeFileSync(path, text);
  return path;
};

describe('loadConfig', () => {
  it('has safe defaults', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8700, dataDir: join(homedir(), '.local/share/trainyard'), sessionTtlMs: 7 * 86_400_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('layers file < environment < flags', () => {
    const config = configFile('port: 9000\nhost: 0.0.0.0\nlogLevel: warn\n');
    expect(loadConfig({ config }, {})).toMatchObject({ port: 9000, host: '0.0.0.0', logLevel: 'warn' });
    expect(loadConfig({ config }, { TRAINYARD_PORT: '9100' })).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(loadConfig({ config, port: 9200 }, { TRAINYARD_PORT: '9100' })).toMatchObject({ port: 9200 });
    expect(loadConfig({}, { TRAINYARD_CONFIG: config, TRAINYARD_SESSION_TTL: '12h' })).toMatchObject({ port: 9000, sessionTtlMs: 43_200_000 });
  });

  it.each([
    [{ port: 'eighty' }, {}, /invalid setting port/],
    [{}, { TRAINYARD_PORT: '70000' }, /port \(TRAINYARD_PORT\)/],
    [{}, { TRAINYARD_SESSION_TTL: 'forever' }, /sessionTtlMs \(TRAINYARD_SESSION_TTL\).*not a duration/],
    [{}, { TRAINYARD_LOG_LEVEL: 'loud' }, /logLevel/],
    [{}, { TRAINYARD_PUBLIC_URL: 'not a url' }, /publicUrl/],
    [{ config: '/nonexistent/trainyard.yaml' }, {}, /cannot read config file/],
    [{ config: configFile('port: [1, 2') }, {}, /not valid YAML or JSON/],
    [{ config: configFile('- a list') }, {}, /must hold a mapping/],
    [{ config: configFile('colour: red') }, {}, /unrecognized key/i],
  ])('rejects %j %j with one clear line', (flags, env, message) => {
    expect(() => loadConfig(flags, env)).toThrow(ConfigError);
    expect(() => loadConfig(flags, env)).toThrow(message);
  });
});
