import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { AuthStore } from '../core/auth.store';
import { Problem, attempt } from '../core/problem';
import { ErrorAlert } from '../shared/error-alert';

@Component({
  selector: 'bkg-login-page',
  imports: [FormsModule, ErrorAlert],
  template: `
    <form class="panel login" (ngSubmit)="submit()">
      <h1>Sign in to bkg mesh</h1>
      <label class="field">username <input name="username" [(ngModel)]="username" autocomplete="username" required></label>
      <label class="field">password <input name="password" type="password" [(ngModel)]="password" autocomplete="current-password" required></label>
      <button class="primary" type="submit" [disabled]="busy()">Sign in</button>
      <bkg-error-alert [problem]="problem()" (dismissed)="problem.set(null)" />
      <p class="muted">./bkg up prints the admin password at the first start (also in $BKG_HOME/admin-password).</p>
    </form>
  `,
  styles: `.login { max-width: 380px; margin: 10vh auto; }`,
})
export class LoginPage {
  private readonly auth = inject(AuthStore);
  private readonly router = inject(Router);
  protected username = '';
  protected password = '';
  protected readonly busy = signal(false);
  protected readonly problem = signal<Problem | null>(null);

  protected async submit(): Promise<void> {
    this.busy.set(true);
    if (await attempt(this.problem, () => this.auth.login(this.username, this.password))) {
      await this.router.navigate(['/']);
    }
    this.busy.set(false);
  }
}
