import { Component, OnInit, inject, signal } from '@angular/core';
import { DatePipe } from '@angular/common';
import { FormsModule } from '@angular/forms';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { StatusBadge } from '../shared/status-badge';
import { Tabs } from '../shared/tabs';
import { KeysStore } from './keys.store';

export const KEY_SCOPES = ['plugins:read', 'plugins:write', 'models:read', 'models:write', 'inference', 'face',
  'telemetry:read', 'keys:manage', 'admin'];

/** The apikeys plugin: create (the key shown once, with a copy button), list and revoke keys; and its dashboard. */
@Component({
  selector: 'bkg-keys-page',
  imports: [FormsModule, DatePipe, ConfirmButton, ErrorAlert, StatusBadge, Tabs, PluginDashboard],
  template: `
    <bkg-tabs [tabs]="['API keys', 'Dashboard']" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard pluginId="apikeys" />
    } @else {
      <h1>API keys</h1>
      <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
      @if (store.created(); as created) {
        <section class="panel once" data-testid="new-key">
          <h2>Key "{{ created.info.name }}" created — copy it now, it is not shown again</h2>
          <div class="row">
            <code class="secret" data-testid="new-key-value">{{ created.key }}</code>
            <button (click)="copy(created.key)" data-testid="copy-key">{{ copied() ? 'Copied' : 'Copy' }}</button>
            <button (click)="store.forgetCreated(); copied.set(false)">Done</button>
          </div>
        </section>
      }
      <form class="panel" (ngSubmit)="create()" data-testid="create-key-form">
        <h2>New key</h2>
        <div class="row">
          <label class="field">name <input name="name" [(ngModel)]="name" required data-testid="key-name"></label>
          <label class="field">expires (optional) <input name="expires" type="date" [(ngModel)]="expires"></label>
        </div>
        <div class="row scopes">
          @for (scope of scopes; track scope) {
            <label><input type="checkbox" [name]="'scope-' + scope" [(ngModel)]="chosen[scope]"> {{ scope }}</label>
          }
        </div>
        <button class="primary" type="submit">Create key</button>
      </form>
      <section class="panel">
        <table data-testid="keys-table">
          <tr><th>name</th><th>prefix</th><th>scopes</th><th>created</th><th>last used</th><th>state</th><th></th></tr>
          @for (k of store.keys(); track k.id) {
            <tr [attr.data-key]="k.name">
              <td>{{ k.name }}</td><td class="mono">{{ k.prefix }}…</td><td>{{ k.scopes.join(', ') }}</td>
              <td>{{ k.created | date: 'short' }}</td><td>{{ k.lastUsed ? (k.lastUsed | date: 'short') : 'never' }}</td>
              <td><bkg-status-badge [state]="k.revoked ? 'REVOKED' : 'ACTIVE'" /></td>
              <td>@if (!k.revoked) {
                <bkg-confirm-button label="Revoke" kind="danger" [question]="'Revoke ' + k.name + '?'" (confirmed)="store.revoke(k.id)" />
              }</td>
            </tr>
          } @empty { <tr><td colspan="7" class="muted">no keys yet</td></tr> }
        </table>
      </section>
    }
  `,
  styles: `
    .once { border-color: var(--ok); background: #f0fbf5; }
    .secret { padding: 6px 8px; background: #fff; border: 1px solid var(--line); border-radius: 6px; word-break: break-all; }
    .scopes { margin-bottom: 10px; } .scopes label { display: inline-flex; gap: 4px; align-items: center; }
  `,
})
export class KeysPage implements OnInit {
  protected readonly store = inject(KeysStore);
  protected readonly tab = signal('API keys');
  protected readonly scopes = KEY_SCOPES;
  protected readonly copied = signal(false);
  protected name = '';
  protected expires = '';
  protected chosen: Record<string, boolean> = { inference: true };

  ngOnInit(): void {
    void this.store.load();
  }

  protected async create(): Promise<void> {
    this.copied.set(false);
    const scopes = this.scopes.filter(s => this.chosen[s]);
    if (await this.store.create(this.name, scopes, this.expires || null)) {
      this.name = '';
    }
  }

  protected async copy(key: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(key);
      this.copied.set(true);
    } catch {
      this.copied.set(false); // clipboard refused (no permission): the key stays on screen to copy by hand
    }
  }
}
