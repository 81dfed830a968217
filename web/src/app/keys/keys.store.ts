import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { AuthStore } from '../core/auth.store';
import { Problem, attempt } from '../core/problem';
import { ApiKey, CreatedKey } from '../core/types';

/** The caller's API keys. A new key's secret is held only until the page is left: the gateway never shows it again. */
@Injectable({ providedIn: 'root' })
export class KeysStore {
  private readonly http = inject(HttpClient);

  readonly keys = signal<ApiKey[]>([]);
  readonly problem = signal<Problem | null>(null);
  /** The key just created, shown once. */
  readonly created = signal<CreatedKey | null>(null);

  constructor() {
    inject(AuthStore).onSignOut(() => {
      this.created.set(null);
      this.keys.set([]);
    });
  }

  async load(): Promise<void> {
    await attempt(this.problem, async () => this.keys.set(await firstValueFrom(this.http.get<ApiKey[]>('/api/auth/keys'))));
  }

  async create(name: string, scopes: string[], expiresAt: string | null): Promise<boolean> {
    const body = { name: name.trim(), scopes, expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null };
    const created = await attempt(this.problem,
      async () => this.created.set(await firstValueFrom(this.http.post<CreatedKey>('/api/auth/keys', body))));
    if (created) {
      await this.load();
    }
    return created;
  }

  async revoke(id: string): Promise<void> {
    const revoked = await attempt(this.problem, async () => {
      await firstValueFrom(this.http.delete(`/api/auth/keys/${encodeURIComponent(id)}`));
      if (this.created()?.id === id) {
        this.created.set(null);
      }
    });
    if (revoked) {
      await this.load();
    }
  }

  forgetCreated(): void {
    this.created.set(null);
  }
}
