import { Component, ElementRef, OnDestroy, afterNextRender, effect, input, viewChild } from '@angular/core';
import { Chart, Filler, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import { Point } from '../plugins/telemetry.store';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour12: false });

/** A live line chart (Chart.js) of one metric; redraws whenever its points change. */
@Component({
  selector: 'bkg-live-chart',
  template: `
    <div class="head"><strong>{{ title() }}</strong><span class="muted" data-testid="chart-latest">{{ latestText() }}</span></div>
    <div class="box"><canvas #canvas [attr.data-points]="points().length" data-testid="chart"></canvas></div>
    @if (points().length === 0) { <div class="muted empty">{{ emptyText() }}</div> }
  `,
  styles: `
    :host { display: block; }
    .head { display: flex; justify-content: space-between; margin-bottom: 4px; }
    .box { position: relative; height: 140px; }
    .empty { font-size: 12px; }
  `,
})
export class LiveChart implements OnDestroy {
  readonly title = input.required<string>();
  readonly points = input.required<Point[]>();
  readonly format = input<(v: number) => string>(v => v.toFixed(1));
  readonly emptyText = input('waiting for the first sample…');

  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private chart: Chart<'line', { x: number; y: number }[]> | null = null;

  constructor() {
    afterNextRender(() => {
      const format = this.format();
      this.chart = new Chart(this.canvas().nativeElement, {
        type: 'line',
        data: { datasets: [{ data: [], borderColor: '#2f5bea', backgroundColor: 'rgba(47,91,234,.12)', fill: true,
          pointRadius: 0, borderWidth: 1.5, tension: 0.2 }] },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: {
            x: { type: 'linear', ticks: { callback: v => clock(Number(v)), maxTicksLimit: 4 } },
            y: { beginAtZero: true, ticks: { callback: v => format(Number(v)), maxTicksLimit: 4 } },
          },
          plugins: { tooltip: { callbacks: { label: item => format(item.parsed.y ?? 0),
            title: items => clock(items[0]?.parsed.x ?? 0) } } },
        },
      });
      this.draw();
    });
    effect(() => {
      this.points();
      this.draw();
    });
  }

  protected latestText(): string {
    const points = this.points();
    return points.length ? this.format()(points[points.length - 1].v) : '';
  }

  private draw(): void {
    if (this.chart) {
      this.chart.data.datasets[0].data = this.points().map(p => ({ x: p.t, y: p.v }));
      this.chart.update('none');
    }
  }

  ngOnDestroy(): void {
    this.chart?.destroy();
  }
}
