import { Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { AuthStore } from './core/auth.store';
import { PluginsStore } from './plugins/plugins.store';
import { StatusBadge } from './shared/status-badge';

/** The layout: a side navigation (pages, then one entry per plugin with its live state) and the page. */
@Component({
  selector: 'bkg-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, StatusBadge],
  template: `
    @if (auth.signedIn()) {
      <div class="shell">
        <nav class="side">
          <div class="brand">bkg mesh</div>
          <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">Overview</a>
          <a routerLink="/models" routerLinkActive="active">Models</a>
          <a routerLink="/plugins/apikeys" routerLinkActive="active">API keys</a>
          @if (auth.can('admin')) { <a routerLink="/users" routerLinkActive="active">Users</a> }
          <a routerLink="/plugins/brainml" routerLinkActive="active">Embeddings playground</a>
          <a routerLink="/chat">Chat</a>
          <a routerLink="/faces">Faces</a>
          <div class="section">Plugins</div>
          @for (p of plugins.plugins(); track p.id) {
            <a [routerLink]="['/plugins', p.id]" routerLinkActive="active" class="plugin" [attr.data-nav-plugin]="p.id">
              {{ p.name }} <bkg-status-badge [state]="p.status.state" />
            </a>
          }
          <div class="foot">
            @if (plugins.socket.state() === 'reconnecting') { <div class="muted" data-testid="reconnecting">reconnecting…</div> }
            <span class="muted">{{ auth.username() }}</span> <button (click)="auth.logout()">Sign out</button>
          </div>
        </nav>
        <main><router-outlet /></main>
      </div>
    } @else {
      <router-outlet />
    }
  `,
  styles: `
    .shell { display: flex; min-height: 100vh; }
    .side { width: 230px; background: #141a29; color: #c9d1e2; padding: 14px 10px; display: flex; flex-direction: column; gap: 2px; }
    .side a { color: #c9d1e2; padding: 6px 8px; border-radius: 6px; display: flex; justify-content: space-between; align-items: center; }
    .side a.active, .side a:hover { background: #243049; color: #fff; }
    .brand { font-weight: 700; font-size: 16px; color: #fff; padding: 4px 8px 12px; }
    .section { margin-top: 14px; padding: 4px 8px; font-size: 11px; text-transform: uppercase; color: #7f8aa3; }
    .foot { margin-top: auto; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
    main { flex: 1; padding: 20px; min-width: 0; }
  `,
})
export class App {
  protected readonly auth = inject(AuthStore);
  protected readonly plugins = inject(PluginsStore);

  constructor() {
    if (this.auth.signedIn()) {
      this.plugins.watch();
    }
  }
}
