import { Component, OnDestroy, OnInit, inject, input, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { AuthStore } from '../core/auth.store';
import { LiveSocket } from '../core/live-socket';
import { LogLine } from '../core/types';
import { AutoScroll } from '../shared/auto-scroll.directive';
import { StatusBadge } from '../shared/status-badge';
import { LOG_LEVELS, LogStore } from './log.store';

type LogMessage = (LogLine & { type: 'log' }) | { type: 'skipped'; count: number } | { type: 'upstream'; state: string };

/** A plugin's log, live: recent lines first, then each new one; level filter, search, auto-scroll. */
@Component({
  selector: 'bkg-log-panel',
  imports: [FormsModule, AutoScroll, StatusBadge],
  template: `
    <div class="row bar">
      <h2>Logs</h2>
      <bkg-status-badge [state]="socket.state()" data-testid="log-socket-state" />
      @if (socket.closedReason(); as reason) { <span class="muted">{{ reason }}</span> }
      @if (upstream() === 'reconnecting') { <span class="muted" data-testid="log-upstream">the gateway is reconnecting to the plugin manager…</span> }
      <span class="spacer"></span>
      <select [ngModel]="store.level()" (ngModelChange)="store.level.set($event)" aria-label="level" data-testid="log-level">
        @for (level of levels; track level) { <option [value]="level">{{ level }}</option> }
      </select>
      <input type="search" placeholder="search" [ngModel]="store.search()" (ngModelChange)="store.search.set($event)"
             aria-label="search logs" data-testid="log-search">
      <span class="muted">{{ store.visible().length }} / {{ store.lines().length }} lines</span>
    </div>
    @if (store.skipped() > 0) { <div class="muted">{{ store.skipped() }} lines skipped (this page fell behind)</div> }
    <div class="log mono" [bkgAutoScroll]="store.visible().length" (following)="following.set($event)" data-testid="log-lines">
      @for (line of store.visible(); track line.seq) {
        <div class="line" [class]="'line ' + (line.level || '').toLowerCase()"><span class="t">{{ line.timestamp.substring(11, 23) }}</span> {{ line.text }}</div>
      } @empty {
        <div class="muted">no log lines yet</div>
      }
    </div>
    @if (!following()) {
      <button class="jump" data-testid="log-resume" (click)="scroller().resume()">paused — jump to newest</button>
    }
  `,
  styles: `
    :host { display: block; position: relative; }
    .bar { margin-bottom: 6px; } .spacer { flex: 1; }
    .log { height: 320px; overflow-y: auto; background: #101521; color: #d7dce5; border-radius: 6px; padding: 8px; }
    .line { white-space: pre-wrap; word-break: break-word; } .t { color: #7f8aa3; }
    .error { color: #ff8a80; } .warn { color: #ffd27a; }
    .jump { position: absolute; right: 16px; bottom: 12px; }
  `,
})
export class LogPanel implements OnInit, OnDestroy {
  readonly pluginId = input.required<string>();
  protected readonly levels = LOG_LEVELS;
  protected readonly store = new LogStore();
  protected readonly following = signal(true);
  /** The gateway's own link to the log stream: "live", or "reconnecting" while its backend restarts. */
  protected readonly upstream = signal('live');
  protected readonly scroller = viewChild.required(AutoScroll);
  private readonly auth = inject(AuthStore);
  protected readonly socket = new LiveSocket<LogMessage>(
    () => {
      const after = this.store.lastSeq();
      return `/ws/plugins/${encodeURIComponent(this.pluginId())}/logs` + (after === null ? '' : `?afterSeq=${after}`);
    },
    () => this.auth.token(),
    message => {
      if (message.type === 'log') {
        this.store.add(message);
      } else if (message.type === 'skipped') {
        this.store.skipped.update(n => n + message.count);
      } else if (message.type === 'upstream') {
        this.upstream.set(message.state);
      }
    });

  ngOnInit(): void {
    this.socket.start();
  }

  ngOnDestroy(): void {
    this.socket.stop();
  }
}
