import { describe, expect, it } from 'vitest';
import { formatBytes, parseByteSize } from '../../src/lib/byte-size.ts';

describe('parseByteSize', () => {
  const cases: Array<[string | number, number | undefined]> = [
    ['20GB', 20 * 2 ** 30],
    ['20 gb', 20 * 2 ** 30],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['512m', 512 * 2 ** 20],
    ['64KiB', 64 * 1024],
    ['2T', 2 * 2 ** 40],
    ['4096', 4096],
    [4096, 4096],
    ['0GB', undefined],
    ['-1GB', undefined],
    ['GB', undefined],
    ['20 parsecs', undefined],
    ['1e3', undefined],
    [1.5, undefined],
    [0, undefined],
    ['99999999999TB', undefined],
  ];
  for (const [text, bytes] of cases) {
    it(`reads ${JSON.stringify(text)} as ${bytes}`, () => expect(parseByteSize(text)).toBe(bytes));
  }
});

describe('formatBytes', () => {
  it('uses the same binary units', () => {
    expect([900, 1536, 20 * 2 ** 30].map(formatBytes)).toEqual(['900 B', '1.5 KB', '20.0 GB']);
  });
});
