import { describe, expect, it } from 'vitest';
import { tokenReach } from '../../src/lib/token-reach.ts';

describe('tokenReach', () => {
  it.each([
    ['a read-only token', { scope: 'read', runUuid: null, deployment: null }, 'read'],
    ['a read-write token', { scope: 'write', runUuid: null, deployment: null }, 'write'],
    ["a job's token, bound to its run", { scope: 'write', runUuid: '0f3c9a', deployment: null }, 'run 0f3c9a'],
    ["a deployment's token", { scope: 'write', runUuid: null, deployment: 'churn' }, 'deployment churn'],
  ] as const)('names %s by what it reaches', (_case, token, expected) => {
    expect(tokenReach(token)).toBe(expected);
  });
});
