import { Component, computed, input } from '@angular/core';

const TONE: Record<string, string> = {
  RUNNING: 'ok', READY: 'ok', open: 'ok', up: 'ok', DONE: 'ok', ACTIVE: 'ok',
  STARTING: 'warn', STOPPING: 'warn', RESTARTING: 'warn', BACKOFF: 'warn', DOWNLOADING: 'warn', PENDING: 'warn',
  QUEUED: 'warn', VERIFYING: 'warn', DELETING: 'warn', reconnecting: 'warn', connecting: 'warn', BUILDING: 'warn', STALE: 'warn',
  FAILED: 'bad', REVOKED: 'bad', CRASHED: 'bad', UNHEALTHY: 'bad', ERROR: 'bad', down: 'bad', CANCELLED: 'bad', INVALID: 'bad',
};

/** A state as a coloured pill: green when all is well, amber while changing, red when broken, grey otherwise. */
@Component({
  selector: 'bkg-status-badge',
  template: `<span class="badge" [class]="tone()" data-testid="status-badge">{{ state() }}</span>`,
  styles: `
    .badge { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
             background: #eef0f3; color: #4a5565; }
    .ok { background: #dcf5e7; color: var(--ok); }
    .warn { background: #fff1d6; color: var(--warn); }
    .bad { background: #fde2e0; color: var(--bad); }
  `,
})
export class StatusBadge {
  readonly state = input.required<string>();
  protected readonly tone = computed(() => 'badge ' + (TONE[this.state()] ?? 'idle'));
}
