import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { tarGz } from './snapshot-archives.ts';

const DAY = 24 * 3600_000;
let t: TestApp;
let mia: UserRecord;

async function* bodyOf(archive: Buffer) {
  yield archive;
}
const upload = async () => (await t.app.snapshots.create(mia, bodyOf(tarGz([{ path: 'train.py', body: 'print(1)\n' }])))).id;
const submitWith = (snapshotId: string) => {
  t.app.snapshots.use(mia, snapshotId);
  return t.app.jobs.submit(mia, jobSubmissionSchema.parse({ image: 'busybox', command: ['true'], snapshotId }));
};
const exists = (id: string) => existsSync(t.app.snapshots.folderOf(id));

beforeAll(async () => {
  t = await createTestApp();
  mia = t.app.users.get(MEMBER.username);
});

describe('the snapshot store', () => {
  it('sweeps snapshots no job used for a week, and keeps those of unfinished jobs', async () => {
    const unused = await upload();
    const queued = await upload();
    const usedLater = await upload();
    const finished = await upload();
    submitWith(queued);
    const done = submitWith(finished);
    t.app.jobs.cancel(mia, done.id);
    t.clock.advance(6 * DAY);
    t.app.jobs.cancel(mia, submitWith(usedLater).id);
    t.clock.advance(2 * DAY);

    expect(await t.app.snapshots.sweep()).toBe(2);
    expect([unused, queued, usedLater, finished].map(exists)).toEqual([false, true, true, false]);
    // The queued job's snapshot counts as used today: it outlives its job by a week.
    t.clock.advance(6 * DAY);
    expect(await t.app.snapshots.sweep()).toBe(1);
    expect([queued, usedLater].map(exists)).toEqual([true, false]);
  });

  it('sweeps on each upload, and removes what interrupted uploads left', async () => {
    const root = join(t.app.config.dataDir, 'snapshots');
    const old = await upload();
    mkdirSync(join(root, '.incoming-0123'));
    mkdirSync(join(root, 'ab'.repeat(16)));
    t.clock.advance(8 * DAY);
    const fresh = await upload();
    expect(exists(old)).toBe(false);
    expect(readdirSync(root)).not.toContain('.incoming-0123');
    expect(readdirSync(root)).not.toContain('ab'.repeat(16));
    expect(readdirSync(root)).toEqual(expect.arrayContaining([fresh, `${fresh}.json`]));
  });

  it("refuses to hand one user's snapshot to another, or an id that is not one", async () => {
    const id = await upload();
    expect(() => t.app.snapshots.use(t.app.users.get(ADMIN.username), id)).toThrow('does not exist (or is not yours)');
    expect(() => t.app.snapshots.use(mia, '../../etc')).toThrow('does not exist');
    expect(() => t.app.snapshots.folderOf('../../etc')).toThrow('not a snapshot id');
  });
});
