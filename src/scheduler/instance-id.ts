import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../lib/errors.ts';

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * This appliance's id on the Docker engine, made once and kept in `<data>/instance-id`: containers carry it, so
 * after a restart the appliance finds its own containers again and never touches another appliance's.
 */
export function readInstanceId(dataDir: string): string {
  const path = join(dataDir, 'instance-id');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (INSTANCE_ID.test(stored)) return stored;
    throw new ConfigError(`${path} holds ${JSON.stringify(stored.slice(0, 80))}, not an instance id: restore it or remove it to get a new one`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const created = randomBytes(6).toString('hex');
  try {
    writeFileSync(path, `${created}\n`, { mode: 0o600, flag: 'wx' });
    return created;
  } catch (error) {
    // Another process of the same appliance wrote it first: theirs is the one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readInstanceId(dataDir);
    throw error;
  }
}
