import { Pipe, PipeTransform } from '@angular/core';

/** Seconds as the two largest units: 59 → "59s", 3725 → "1h 2m", 90061 → "1d 1h"; null → "–". */
export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '–';
  }
  const s = Math.floor(seconds);
  const parts: [number, string][] = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) {
    return '0s';
  }
  return parts.slice(first, first + 2).filter(([n], i) => i === 0 || n > 0).map(([n, u]) => `${n}${u}`).join(' ');
}

/** Takes seconds, or an ISO instant to count from ("since"). */
@Pipe({ name: 'uptime' })
export class UptimePipe implements PipeTransform {
  transform(value: number | string | null | undefined, now: number = Date.now()): string {
    if (typeof value === 'string') {
      const since = Date.parse(value);
      return Number.isNaN(since) ? '–' : formatUptime((now - since) / 1000);
    }
    return formatUptime(value);
  }
}
