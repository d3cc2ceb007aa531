import { describe, expect, it } from 'vitest';
import { versionFor, type ServingTarget } from '../../src/serving/serving-target.ts';

const target = (canary: ServingTarget['canary']): ServingTarget => ({
  id: 1,
  name: 'churn',
  projectId: 1,
  public: false,
  version: 1,
  upstreams: ['http://127.0.0.1:1'],
  canary,
  sampling: { rate: 0, maxBytes: 1024 },
});
const canary = { version: 2, weight: 20, upstreams: ['http://127.0.0.1:2'] };

describe('versionFor', () => {
  it.each([
    ['no canary', null, 0, 1],
    ['a draw below the weight', canary, 0.199, 2],
    ['a draw at the weight', canary, 0.2, 1],
    ['a draw above it', canary, 0.9, 1],
    ['a canary with no ready replica', { ...canary, upstreams: [] }, 0, 1],
  ])('sends the call to the serving version or the canary: %s', (_name, split, draw, version) => {
    expect(versionFor(target(split), () => draw).version).toBe(version);
  });

  it('sends the canary about its share of the calls', () => {
    let seed = 42;
    // A small linear congruential generator: the same draws on every run.
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const toCanary = Array.from({ length: 10_000 }, () => versionFor(target(canary), random).version).filter((version) => version === 2).length;
    expect(toCanary).toBeGreaterThan(1_800);
    expect(toCanary).toBeLessThan(2_200);
  });
});
