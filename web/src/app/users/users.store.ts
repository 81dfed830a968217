import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Problem, attempt } from '../core/problem';

export interface User { username: string; admin: boolean; roles: string[]; created: string; }

/** The users an admin manages; roles are scopes (auth-service). */
@Injectable({ providedIn: 'root' })
export class UsersStore {
  private readonly http = inject(HttpClient);

  readonly users = signal<User[]>([]);
  readonly problem = signal<Problem | null>(null);
  readonly message = signal<string | null>(null);

  async load(): Promise<void> {
    await attempt(this.problem, async () => this.users.set(await firstValueFrom(this.http.get<User[]>('/api/auth/users'))));
  }

  async create(username: string, password: string, admin: boolean, roles: string[]): Promise<boolean> {
    const created = await attempt(this.problem, () => firstValueFrom(this.http.post('/api/auth/users',
      { username: username.trim(), password, admin, roles })));
    if (created) {
      this.message.set(`user ${username.trim()} created`);
      await this.load();
    }
    return created;
  }

  async remove(username: string): Promise<void> {
    if (await attempt(this.problem, async () => {
      const gone = await firstValueFrom(this.http.delete<{ revokedKeys: number; endedSessions: number }>(
        `/api/auth/users/${encodeURIComponent(username)}`));
      this.message.set(`user ${username} deleted: ${gone.revokedKeys} keys revoked, ${gone.endedSessions} sessions ended`);
    })) {
      await this.load();
    }
  }

  async setPassword(username: string, newPassword: string): Promise<boolean> {
    return attempt(this.problem, async () => {
      const changed = await firstValueFrom(this.http.post<{ endedSessions: number }>(
        `/api/auth/users/${encodeURIComponent(username)}/password`, { newPassword }));
      this.message.set(`password of ${username} set; ${changed.endedSessions} sessions ended`);
    });
  }
}
