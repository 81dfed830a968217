import { DatePipe } from '@angular/common';
import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { AuthStore } from '../core/auth.store';
import { KEY_SCOPES } from '../keys/keys-page';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { UsersStore } from './users.store';

/** Admins create users (roles are scopes), set their passwords and delete them. */
@Component({
  selector: 'bkg-users-page',
  imports: [FormsModule, DatePipe, ConfirmButton, ErrorAlert],
  template: `
    <h1>Users</h1>
    <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
    @if (store.message(); as m) { <p class="muted" data-testid="users-message">{{ m }}</p> }
    <form class="panel" (ngSubmit)="create()" data-testid="create-user-form">
      <h2>New user</h2>
      <div class="row">
        <label class="field">username <input name="username" [(ngModel)]="username" required data-testid="user-name"></label>
        <label class="field">password <input name="password" type="password" [(ngModel)]="password" required
                                             autocomplete="new-password" data-testid="user-password"></label>
        <label><input type="checkbox" name="admin" [(ngModel)]="admin"> admin (every scope)</label>
      </div>
      @if (!admin) {
        <div class="row roles">
          @for (scope of scopes; track scope) {
            <label><input type="checkbox" [name]="'role-' + scope" [(ngModel)]="roles[scope]" [attr.data-testid]="'role-' + scope"> {{ scope }}</label>
          }
        </div>
      }
      <button class="primary" type="submit">Create user</button>
    </form>
    <section class="panel">
      <table data-testid="users-table">
        <tr><th>user</th><th>may</th><th>created</th><th></th></tr>
        @for (u of store.users(); track u.username) {
          <tr [attr.data-user]="u.username">
            <td>{{ u.username }}</td>
            <td>{{ u.admin ? 'everything (admin)' : (u.roles.join(', ') || 'nothing') }}</td>
            <td>{{ u.created | date: 'short' }}</td>
            <td class="actions">
              @if (settingFor() === u.username) {
                <input type="password" [(ngModel)]="newPassword" placeholder="new password" autocomplete="new-password">
                <button (click)="setPassword(u.username)">Set</button>
                <button (click)="settingFor.set(null)">Cancel</button>
              } @else {
                <button (click)="settingFor.set(u.username); newPassword = ''">Set password</button>
              }
              @if (u.username !== auth.username()) {
                <bkg-confirm-button label="Delete" kind="danger" [question]="'Delete ' + u.username + ' and revoke their keys?'"
                                    (confirmed)="store.remove(u.username)" />
              }
            </td>
          </tr>
        }
      </table>
    </section>
  `,
  styles: `.roles { margin-bottom: 10px; } .roles label { display: inline-flex; gap: 4px; } .actions { white-space: nowrap; }`,
})
export class UsersPage implements OnInit {
  protected readonly store = inject(UsersStore);
  protected readonly auth = inject(AuthStore);
  protected readonly scopes = KEY_SCOPES.filter(s => s !== 'admin');
  protected readonly settingFor = signal<string | null>(null);
  protected username = '';
  protected password = '';
  protected admin = false;
  protected roles: Record<string, boolean> = {};
  protected newPassword = '';

  ngOnInit(): void {
    void this.store.load();
  }

  protected async create(): Promise<void> {
    const roles = this.scopes.filter(s => this.roles[s]);
    if (await this.store.create(this.username, this.password, this.admin, this.admin ? [] : roles)) {
      this.username = '';
      this.password = '';
      this.roles = {};
    }
  }

  protected async setPassword(username: string): Promise<void> {
    if (await this.store.setPassword(username, this.newPassword)) {
      this.settingFor.set(null);
    }
  }
}
