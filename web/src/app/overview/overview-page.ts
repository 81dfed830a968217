import { HttpClient } from '@angular/common/http';
import { Component, OnDestroy, OnInit, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { Problem, attempt } from '../core/problem';
import { MeshOverview } from '../core/types';
import { PluginsStore } from '../plugins/plugins.store';
import { BytesPipe } from '../shared/bytes.pipe';
import { ErrorAlert } from '../shared/error-alert';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { UptimePipe } from '../shared/uptime.pipe';

/** How often the figures are fetched again (statuses arrive live over the socket). */
const REFRESH_MS = 5000;

/** Every service and plugin, its state and key figures. */
@Component({
  selector: 'bkg-overview-page',
  imports: [RouterLink, StatusBadge, ErrorAlert, Spinner, BytesPipe, UptimePipe],
  template: `
    <h1>Overview</h1>
    <bkg-error-alert [problem]="problem()" (dismissed)="problem.set(null)" />
    @if (overview(); as o) {
      <p class="row" data-testid="mesh-state">
        <bkg-status-badge [state]="o.state === 'READY' ? 'up' : 'down'" />
        <strong>Mesh {{ o.state }}</strong>
        @if (o.notReady.length) { <span class="muted">not ready: {{ o.notReady.join(', ') }}</span> }
      </p>
      @if (!o.telemetryAvailable) { <p class="muted">Figures unavailable: {{ o.telemetryDetail }}</p> }
    } @else if (!problem()) { <bkg-spinner /> }

    @for (e of plugins.registryErrors(); track e) { <p class="field-error">plugins.json: {{ e }}</p> }
    <section class="panel">
      <div class="row"><h2>Plugins</h2><bkg-status-badge [state]="plugins.socket.state()" /></div>
      <table data-testid="plugins-table">
        <tr><th>plugin</th><th>state</th><th>CPU</th><th>memory</th><th>uptime</th><th>restarts</th><th>capabilities</th></tr>
        @for (p of plugins.plugins(); track p.id) {
          <tr [attr.data-plugin]="p.id">
            <td><a [routerLink]="['/plugins', p.id]">{{ p.name }}</a></td>
            <td><bkg-status-badge [state]="p.status.state" /></td>
            <td>{{ figure(p.id, 'cpu_percent', 'plugin') }}</td>
            <td>{{ figures(p.id, 'plugin')['rss_bytes'] | bytes }}</td>
            <td>{{ figures(p.id, 'plugin')['uptime_seconds'] | uptime }}</td>
            <td>{{ p.status.restarts }}</td>
            <td class="muted">{{ p.capabilities.length }}</td>
          </tr>
        }
      </table>
    </section>

    <section class="panel">
      <h2>Services</h2>
      <table data-testid="services-table">
        <tr><th>service</th><th>state</th><th>CPU</th><th>memory</th><th>uptime</th><th>requests/s</th></tr>
        @for (s of overview()?.services ?? []; track s.name) {
          <tr [attr.data-service]="s.name">
            <td>{{ s.name }}</td>
            <td><bkg-status-badge [state]="s.up ? 'up' : 'down'" /></td>
            <td>{{ figure(s.name, 'cpu_percent', 'service') }}</td>
            <td>{{ s.figures['rss_bytes'] | bytes }}</td>
            <td>{{ s.figures['uptime_seconds'] | uptime }}</td>
            <td>{{ s.figures['requests_per_second'] === undefined ? '–' : s.figures['requests_per_second'].toFixed(2) }}</td>
          </tr>
        }
      </table>
    </section>
  `,
})
export class OverviewPage implements OnInit, OnDestroy {
  protected readonly plugins = inject(PluginsStore);
  private readonly http = inject(HttpClient);
  protected readonly overview = signal<MeshOverview | null>(null);
  protected readonly problem = signal<Problem | null>(null);
  private timer: ReturnType<typeof setInterval> | null = null;

  ngOnInit(): void {
    this.plugins.watch();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  ngOnDestroy(): void {
    if (this.timer) {
      clearInterval(this.timer);
    }
  }

  protected figures(name: string, kind: 'plugin' | 'service'): Record<string, number> {
    const o = this.overview();
    const found = kind === 'plugin' ? o?.plugins.find(p => p.id === name) : o?.services.find(s => s.name === name);
    return found?.figures ?? {};
  }

  protected figure(name: string, metric: string, kind: 'plugin' | 'service'): string {
    const v = this.figures(name, kind)[metric];
    return v === undefined ? '–' : `${v.toFixed(1)} %`;
  }

  private async refresh(): Promise<void> {
    await attempt(this.problem, async () => this.overview.set(await firstValueFrom(this.http.get<MeshOverview>('/api/telemetry'))));
  }
}
