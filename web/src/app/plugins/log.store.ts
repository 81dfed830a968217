import { computed, signal } from '@angular/core';
import { LogLine } from '../core/types';

export const LOG_LEVELS = ['ALL', 'ERROR', 'WARN', 'INFO', 'DEBUG'] as const;
export type LogLevelFilter = (typeof LOG_LEVELS)[number];

const RANK: Record<string, number> = { ERROR: 0, FATAL: 0, SEVERE: 0, WARN: 1, WARNING: 1, INFO: 2, DEBUG: 3, TRACE: 4 };

/**
 * A plugin's log lines as the page shows them: at most {@link capacity} (oldest dropped), each seq
 * once (a reconnect replays from the last seq seen), filtered by level ("WARN" shows WARN and worse)
 * and by a case-insensitive search.
 */
export class LogStore {
  readonly lines = signal<LogLine[]>([]);
  readonly level = signal<LogLevelFilter>('ALL');
  readonly search = signal('');
  /** Lines the gateway dropped for this slow client ("skipped" messages). */
  readonly skipped = signal(0);

  readonly visible = computed(() => {
    const level = this.level();
    const needle = this.search().trim().toLowerCase();
    const max = level === 'ALL' ? Infinity : RANK[level];
    return this.lines().filter(line =>
      (max === Infinity || (RANK[line.level?.toUpperCase()] ?? RANK['INFO']) <= max)
      && (!needle || line.text.toLowerCase().includes(needle)));
  });

  constructor(readonly capacity = 2000) {}

  /** The last seq seen, for "?afterSeq=" when the socket reconnects. */
  lastSeq(): number | null {
    const lines = this.lines();
    return lines.length ? lines[lines.length - 1].seq : null;
  }

  add(line: LogLine): void {
    const last = this.lastSeq();
    if (last !== null && line.seq <= last) {
      return;
    }
    this.lines.update(lines => {
      const next = [...lines, line];
      return next.length > this.capacity ? next.slice(next.length - this.capacity) : next;
    });
  }

  clear(): void {
    this.lines.set([]);
  }
}
