import { describe, expect, it } from 'vitest';
import { lttb } from '../../src/lib/downsample.ts';

const series = (length: number, y: (x: number) => number) => {
  const xs = Float64Array.from({ length }, (_, index) => index);
  return { xs, ys: Float64Array.from(xs, y) };
};

describe('lttb', () => {
  it('keeps everything when there are fewer points than asked for', () => {
    const { xs, ys } = series(5, (x) => x);
    expect(lttb(xs, ys, 10)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps the first and last points and exactly `threshold` ascending indices', () => {
    const { xs, ys } = series(10_000, (x) => Math.sin(x / 100));
    const kept = lttb(xs, ys, 500);
    expect(kept).toHaveLength(500);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(9_999);
    expect(kept.every((index, position) => position === 0 || index > kept[position - 1]!)).toBe(true);
  });

  it('keeps a spike that an even sampling would miss', () => {
    const { xs, ys } = series(100_000, (x) => (x === 54_321 ? 1000 : 0));
    expect(lttb(xs, ys, 300)).toContain(54_321);
  });

  it('tolerates NaN and infinities', () => {
    const { xs, ys } = series(1_000, (x) => (x % 7 === 0 ? Number.NaN : x % 11 === 0 ? Infinity : x));
    expect(lttb(xs, ys, 50)).toHaveLength(50);
  });

  it('downsamples a million points quickly', () => {
    const { xs, ys } = series(1_000_000, (x) => Math.sin(x / 1000) + Math.random() * 0.1);
    const started = performance.now();
    lttb(xs, ys, 1_000);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
