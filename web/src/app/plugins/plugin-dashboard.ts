import { Component, OnDestroy, OnInit, computed, inject, input, signal } from '@angular/core';
import { AuthStore } from '../core/auth.store';
import { LiveSocket } from '../core/live-socket';
import { Sample } from '../core/types';
import { BytesPipe, formatBytes } from '../shared/bytes.pipe';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { LiveChart } from '../shared/live-chart';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { UptimePipe } from '../shared/uptime.pipe';
import { ConfigEditor } from './config-editor';
import { LogPanel } from './log-panel';
import { PluginsStore } from './plugins.store';
import { TelemetryStore } from './telemetry.store';

type TelemetryMessage = (Sample & { type: 'sample' }) | { type: 'upstream'; state: string };

const RUNNING_LIKE = new Set(['RUNNING', 'STARTING', 'UNHEALTHY', 'RESTARTING']);

/** One plugin: controls, live status and figures, charts, live logs and its config. */
@Component({
  selector: 'bkg-plugin-dashboard',
  imports: [StatusBadge, ConfirmButton, ErrorAlert, Spinner, LiveChart, LogPanel, ConfigEditor, UptimePipe, BytesPipe],
  template: `
    @if (plugin(); as p) {
      <section class="panel" data-testid="plugin-header">
        <div class="row">
          <h1>{{ p.name }}</h1>
          <bkg-status-badge [state]="p.status.state" data-testid="plugin-state" />
          @if (!p.available) { <span class="muted">unavailable: {{ p.unavailableReason }}</span> }
          <span class="spacer"></span>
          @if (plugins.busy()[p.id]; as action) { <bkg-spinner [label]="action + '…'" /> }
          <button class="primary" data-testid="plugin-start" [disabled]="!canWrite() || running() || !!plugins.busy()[p.id]"
                  (click)="plugins.control(p.id, 'start')">Start</button>
          <bkg-confirm-button label="Stop" kind="danger" data-testid="plugin-stop" [question]="'Stop ' + p.name + '?'"
                  [disabled]="!canWrite() || !running() || !!plugins.busy()[p.id]" (confirmed)="plugins.control(p.id, 'stop')" />
          <bkg-confirm-button label="Restart" data-testid="plugin-restart" [question]="'Restart ' + p.name + '?'"
                  [disabled]="!canWrite() || !running() || !!plugins.busy()[p.id]" (confirmed)="plugins.control(p.id, 'restart')" />
        </div>
        <p class="muted">{{ p.description }}</p>
        <bkg-error-alert [problem]="plugins.problem()" (dismissed)="plugins.problem.set(null)" />
        <div class="stats">
          <div><span class="muted">PID</span><b>{{ p.status.pid ?? '–' }}</b></div>
          <div><span class="muted">uptime</span><b data-testid="plugin-uptime">{{ running() ? (p.status.since | uptime: now()) : '–' }}</b></div>
          <div><span class="muted">restarts</span><b>{{ p.status.restarts }}</b></div>
          <div><span class="muted">CPU</span><b>{{ cpuText() }}</b></div>
          <div><span class="muted">memory (RSS)</span><b>{{ telemetry.latest('rss_bytes') | bytes }}</b></div>
          <div><span class="muted">port</span><b>{{ p.port }} ({{ p.transport }})</b></div>
        </div>
        @if (p.status.message) { <p class="muted">{{ p.status.message }}</p> }
        <div class="muted">capabilities: @for (c of p.capabilities; track c) { <code>{{ c }}</code>{{ $last ? '' : ', ' }} }</div>
      </section>

      <section class="panel">
        <div class="row"><h2>Live figures</h2><bkg-status-badge [state]="telemetrySocket.state()" />
          @if (telemetryUpstream() === 'reconnecting') { <span class="muted">the gateway is reconnecting to telemetry-service…</span> }
          @if (telemetrySocket.closedReason(); as reason) { <span class="muted">{{ reason }}</span> }
        </div>
        <div class="grid">
          <bkg-live-chart title="CPU (% of one core)" [points]="telemetry.points('cpu_percent')" [format]="percent"
                          data-testid="chart-cpu" />
          <bkg-live-chart title="Memory (RSS)" [points]="telemetry.points('rss_bytes')" [format]="bytes"
                          data-testid="chart-rss" />
          <bkg-live-chart title="Requests / s" [points]="telemetry.points('requests_per_second')" [format]="rate"
                          emptyText="no request figures from this plugin yet" data-testid="chart-requests" />
        </div>
      </section>

      <section class="panel"><bkg-log-panel [pluginId]="p.id" /></section>
      <section class="panel"><bkg-config-editor [pluginId]="p.id" [schema]="p.configSchema" /></section>
    } @else if (plugins.loading()) {
      <bkg-spinner />
    } @else {
      <bkg-error-alert [problem]="plugins.problem() ?? { title: 'No such plugin', status: 404, detail: pluginId() }" />
    }
  `,
  styles: `
    .spacer { flex: 1; }
    .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px; margin: 10px 0; }
    .stats div { display: flex; flex-direction: column; }
  `,
})
export class PluginDashboard implements OnInit, OnDestroy {
  readonly pluginId = input.required<string>();
  protected readonly plugins = inject(PluginsStore);
  private readonly auth = inject(AuthStore);
  protected readonly telemetry = new TelemetryStore();
  protected readonly telemetrySocket = new LiveSocket<TelemetryMessage>(
    () => `/ws/plugins/${encodeURIComponent(this.pluginId())}/telemetry`, () => this.auth.token(),
    message => {
      if (message.type === 'sample') {
        this.telemetry.add(message);
      } else if (message.type === 'upstream') {
        this.telemetryUpstream.set(message.state);
      }
    });
  /** The gateway's own link to telemetry-service: "live", or "reconnecting" while it restarts. */
  protected readonly telemetryUpstream = signal('live');

  protected readonly plugin = computed(() => this.plugins.byId().get(this.pluginId()));
  protected readonly running = computed(() => RUNNING_LIKE.has(this.plugin()?.status.state ?? ''));
  protected readonly canWrite = computed(() => this.auth.can('plugins:write'));
  protected readonly percent = (v: number) => `${v.toFixed(1)} %`;
  protected readonly bytes = (v: number) => formatBytes(v);
  protected readonly rate = (v: number) => `${v.toFixed(2)}/s`;
  /** The clock the uptime counts to, ticking each second. */
  protected readonly now = signal(Date.now());
  private clock: ReturnType<typeof setInterval> | null = null;

  ngOnInit(): void {
    this.plugins.watch();
    this.telemetrySocket.start();
    this.clock = setInterval(() => this.now.set(Date.now()), 1000);
  }

  ngOnDestroy(): void {
    this.telemetrySocket.stop();
    if (this.clock) {
      clearInterval(this.clock);
    }
  }

  protected cpuText(): string {
    const cpu = this.telemetry.latest('cpu_percent');
    return cpu === null ? '–' : this.percent(cpu);
  }
}
