import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Problem, toProblem } from '../core/problem';
import { ApiKey, CreatedKey } from '../core/types';

/** The caller's API keys. A new key's secret is held only until the page is left: the gateway never shows it again. */
@Injectable({ providedIn: 'root' })
export class KeysStore {
  private readonly http = inject(HttpClient);

  readonly keys = signal<ApiKey[]>([]);
  readonly problem = signal<Problem | null>(null);
  /** The key just created, shown once. */
  readonly created = signal<CreatedKey | null>(null);

  async load(): Promise<void> {
    try {
      this.keys.set(await firstValueFrom(this.http.get<ApiKey[]>('/api/auth/keys')));
      this.problem.set(null);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  async create(name: string, scopes: string[], expiresAt: string | null): Promise<boolean> {
    try {
      const body = { name: name.trim(), scopes, expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null };
      this.created.set(await firstValueFrom(this.http.post<CreatedKey>('/api/auth/keys', body)));
      this.problem.set(null);
      await this.load();
      return true;
    } catch (e) {
      this.problem.set(toProblem(e));
      return false;
    }
  }

  async revoke(id: string): Promise<void> {
    try {
      await firstValueFrom(this.http.delete(`/api/auth/keys/${encodeURIComponent(id)}`));
      if (this.created()?.id === id) {
        this.created.set(null);
      }
      this.problem.set(null);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
    await this.load();
  }

  forgetCreated(): void {
    this.created.set(null);
  }
}
