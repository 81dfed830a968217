import { BytesPipe, formatBytes } from './bytes.pipe';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    ['2048', '2.0 KiB'],
  ] as const)('%s → %s', (value, expected) => {
    expect(formatBytes(value)).toBe(expected);
  });

  it.each([null, undefined, NaN, -1])('%s → "–"', value => {
    expect(formatBytes(value)).toBe('–');
  });

  it('BytesPipe delegates to formatBytes', () => {
    expect(new BytesPipe().transform(1536)).toBe('1.5 KiB');
    expect(new BytesPipe().transform(null)).toBe('–');
  });
});
