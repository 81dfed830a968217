import { HttpClient } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { LoginReply } from './types';

const STORAGE_KEY = 'bkg.session';

/** The signed-in session: its token (kept for this browser tab) and what it may do. */
@Injectable({ providedIn: 'root' })
export class AuthStore {
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);
  private readonly session = signal<LoginReply | null>(AuthStore.restore());
  private readonly signOutHooks: (() => void)[] = [];

  readonly token = computed(() => this.session()?.token ?? null);
  readonly username = computed(() => this.session()?.username ?? null);
  readonly signedIn = computed(() => this.session() !== null);

  async login(username: string, password: string): Promise<void> {
    const reply = await firstValueFrom(this.http.post<LoginReply>('/api/auth/login', { username, password }));
    this.set(reply);
  }

  async logout(): Promise<void> {
    if (this.token()) {
      await firstValueFrom(this.http.post('/api/auth/logout', null)).catch(() => undefined);
    }
    this.expired();
  }

  /** The gateway no longer accepts the token (401): forget it and ask for a new login. */
  expired(): void {
    this.set(null);
    this.signOutHooks.forEach(hook => hook());
    void this.router.navigate(['/login']);
  }

  /** What a store forgets when the session ends (its sockets, a key shown once), so the next user never sees it. */
  onSignOut(hook: () => void): void {
    this.signOutHooks.push(hook);
  }

  can(scope: string): boolean {
    const scopes = this.session()?.scopes ?? [];
    return scopes.includes('admin') || scopes.includes(scope);
  }

  private set(reply: LoginReply | null): void {
    this.session.set(reply);
    if (reply) {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(reply));
    } else {
      sessionStorage.removeItem(STORAGE_KEY);
    }
  }

  private static restore(): LoginReply | null {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as LoginReply | null;
      return saved && Date.parse(saved.expiresAt) > Date.now() ? saved : null;
    } catch {
      return null;
    }
  }
}
