import { computed, signal } from '@angular/core';
import { Sample } from '../core/types';

export interface Point { t: number; v: number; }

/** The latest samples of one source, per metric, capped at {@link capacity} points each (a live window). */
export class TelemetryStore {
  private readonly series = signal<Record<string, Point[]>>({});

  constructor(readonly capacity = 300) {}

  readonly metrics = computed(() => Object.keys(this.series()).sort());

  add(sample: Sample): void {
    this.series.update(all => {
      const points = all[sample.metric] ?? [];
      if (points.length && points[points.length - 1].t >= sample.t) {
        return all; // a replayed or out-of-order sample: the chart only moves forward
      }
      const next = [...points, { t: sample.t, v: sample.value }];
      return { ...all, [sample.metric]: next.length > this.capacity ? next.slice(next.length - this.capacity) : next };
    });
  }

  points(metric: string): Point[] {
    return this.series()[metric] ?? [];
  }

  latest(metric: string): number | null {
    const points = this.points(metric);
    return points.length ? points[points.length - 1].v : null;
  }

  clear(): void {
    this.series.set({});
  }
}
