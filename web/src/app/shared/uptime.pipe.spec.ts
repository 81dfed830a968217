import { formatUptime, UptimePipe } from './uptime.pipe';

describe('formatUptime', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [3725, '1h 2m'],
    [90061, '1d 1h'],
    [3600, '1h'],
  ])('%s → %s', (seconds, expected) => {
    expect(formatUptime(seconds)).toBe(expected);
  });

  it('null → "–"', () => {
    expect(formatUptime(null)).toBe('–');
  });
});

describe('UptimePipe', () => {
  const pipe = new UptimePipe();

  it('counts from an ISO instant to the given now', () => {
    const now = Date.parse('2024-01-02T01:02:05Z');
    expect(pipe.transform('2024-01-01T00:00:00Z', now)).toBe('1d 1h');
    expect(pipe.transform('2024-01-02T00:00:00Z', now)).toBe('1h 2m');
  });

  it('takes plain seconds and rejects an unparseable instant', () => {
    expect(pipe.transform(59)).toBe('59s');
    expect(pipe.transform('not a date', 0)).toBe('–');
  });
});
