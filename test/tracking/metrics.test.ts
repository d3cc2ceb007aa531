import { describe, expect, it } from 'vitest';
import { sampleSteps } from '../../src/tracking/metric-history.ts';
import { metricValueJson, parseMetricValue } from '../../src/tracking/metric-values.ts';

describe('metric values on the wire', () => {
  it.each([
    [1.5, 1.5],
    [0, 0],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    [' 2.5 ', 2.5],
    ['1e3', 1000],
    ['-.5', -0.5],
  ])('reads %j as %d', (raw, value) => {
    expect(parseMetricValue(raw)).toBe(value);
  });

  it.each([[true], [null], [{}], [[1]], ['high'], [''], ['1.2.3'], ['constructor'], ['0x10']])('refuses %j', (raw) => {
    expect(parseMetricValue(raw)).toBeUndefined();
  });

  it('writes NaN (NULL in SQLite) and the infinities as protobuf JSON strings', () => {
    expect([null, Number.NaN, Infinity, -Infinity, 0.25].map(metricValueJson)).toEqual(['NaN', 'NaN', 'Infinity', '-Infinity', 0.25]);
  });
});

describe('sampleSteps, as MLflow samples steps for its charts', () => {
  it('keeps every step when there are no more than asked for', () => {
    expect(sampleSteps([[0, 1, 2], [1, 5]], undefined, undefined, 10)).toEqual([0, 1, 2, 5]);
  });

  it('takes evenly spaced steps plus the last one and each run\'s ends', () => {
    const steps = Array.from({ length: 100 }, (_, i) => i);
    expect(sampleSteps([steps], undefined, undefined, 4)).toEqual([0, 25, 50, 75, 99]);
    expect(sampleSteps([steps, [7, 33]], undefined, undefined, 4)).toEqual([0, 7, 25, 33, 50, 75, 99]);
  });

  it('samples only within [start, end], edges outside it dropped', () => {
    const steps = Array.from({ length: 100 }, (_, i) => i * 2);
    expect(sampleSteps([steps], 10, 30, 3)).toEqual([10, 16, 24, 30]);
  });

  it('answers nothing for runs without the metric', () => {
    expect(sampleSteps([[], []], undefined, undefined, 10)).toEqual([]);
  });
});
