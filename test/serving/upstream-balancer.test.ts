import { describe, expect, it } from 'vitest';
import { createUpstreamBalancer } from '../../src/serving/upstream-balancer.ts';

const [A, B, C] = ['http://a:1', 'http://b:1', 'http://c:1'];
const none = new Set<string>();

describe('upstream balancer', () => {
  it('takes turns among replicas that are equally busy', () => {
    const balancer = createUpstreamBalancer();
    expect(Array.from({ length: 6 }, () => balancer.pick('churn', [A, B, C], none))).toEqual([A, B, C, A, B, C]);
  });

  it('picks the replica with the fewest calls in flight, and takes turns among the least busy', () => {
    const balancer = createUpstreamBalancer();
    balancer.acquire(A);
    balancer.acquire(A);
    balancer.acquire(B);
    expect(balancer.pick('churn', [A, B, C], none)).toBe(C);
    balancer.acquire(C);
    expect([balancer.pick('churn', [A, B, C], none), balancer.pick('churn', [A, B, C], none)].sort()).toEqual([B, C]);
    balancer.release(A);
    balancer.release(A);
    expect(balancer.pick('churn', [A, B, C], none)).toBe(A);
    expect([balancer.inFlight(A), balancer.inFlight(B), balancer.inFlight(C)]).toEqual([0, 1, 1]);
  });

  it('keeps the turns of each deployment apart', () => {
    const balancer = createUpstreamBalancer();
    expect(balancer.pick('churn', [A, B], none)).toBe(A);
    expect(balancer.pick('llm', [A, B], none)).toBe(A);
    expect(balancer.pick('churn', [A, B], none)).toBe(B);
  });

  it('leaves out the replicas already tried, and has none to give when all were', () => {
    const balancer = createUpstreamBalancer();
    expect(balancer.pick('churn', [A, B], new Set([A]))).toBe(B);
    expect(balancer.pick('churn', [A, B], new Set([A, B]))).toBeUndefined();
    expect(balancer.pick('churn', [], none)).toBeUndefined();
  });
});
