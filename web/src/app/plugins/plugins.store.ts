import { HttpClient } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { AuthStore } from '../core/auth.store';
import { LiveSocket } from '../core/live-socket';
import { Problem, attempt } from '../core/problem';
import { Plugin, PluginConfig, PluginStatus } from '../core/types';

type StatusMessage = PluginStatus & { type: string };

/** Every plugin and its live status: the list from /api/plugins, kept current by /ws/plugins/status. */
@Injectable({ providedIn: 'root' })
export class PluginsStore {
  private readonly http = inject(HttpClient);
  private readonly auth = inject(AuthStore);

  readonly plugins = signal<Plugin[]>([]);
  /** Entries of plugins.json the plugin manager could not use, with why. */
  readonly registryErrors = signal<string[]>([]);
  readonly loading = signal(false);
  readonly problem = signal<Problem | null>(null);
  /** A start/stop/restart in flight, by plugin id. */
  readonly busy = signal<Record<string, string>>({});
  readonly socket = new LiveSocket<StatusMessage>(() => '/ws/plugins/status', () => this.auth.token(),
    message => this.onMessage(message));
  private watching = false;

  readonly byId = computed(() => new Map(this.plugins().map(p => [p.id, p])));

  constructor() {
    this.auth.onSignOut(() => {
      this.unwatch();
      this.plugins.set([]);
    });
  }

  /** Loads the list once and follows status changes until {@link unwatch}. */
  watch(): void {
    if (!this.watching) {
      this.watching = true;
      void this.load();
      this.socket.start();
    }
  }

  unwatch(): void {
    this.watching = false;
    this.socket.stop();
  }

  async load(): Promise<void> {
    this.loading.set(true);
    await attempt(this.problem, async () => {
      const reply = await firstValueFrom(this.http.get<{ plugins: Plugin[]; registryErrors?: string[] }>('/api/plugins'));
      this.plugins.set(reply.plugins);
      this.registryErrors.set(reply.registryErrors ?? []);
    });
    this.loading.set(false);
  }

  /** start, stop or restart; the answer's status is applied at once, the socket brings the rest. */
  async control(id: string, action: 'start' | 'stop' | 'restart'): Promise<void> {
    this.busy.update(b => ({ ...b, [id]: action }));
    await attempt(this.problem, async () =>
      this.applyStatus(await firstValueFrom(this.http.post<PluginStatus>(`/api/plugins/${id}/${action}?wait=false`, null))));
    this.busy.update(b => {
      const { [id]: _, ...rest } = b;
      return rest;
    });
  }

  config(id: string): Promise<PluginConfig> {
    return firstValueFrom(this.http.get<PluginConfig>(`/api/plugins/${id}/config`));
  }

  saveConfig(id: string, config: Record<string, unknown>, expectedVersion: number): Promise<unknown> {
    return firstValueFrom(this.http.post(`/api/plugins/${id}/config?expectedVersion=${expectedVersion}`, config));
  }

  applyStatus(status: PluginStatus): void {
    this.plugins.update(list => list.map(p => (p.id === status.pluginId ? { ...p, status: { ...status } } : p)));
  }

  private onMessage(message: StatusMessage): void {
    if (message.type === 'status') {
      const { type: _, ...status } = message;
      this.applyStatus(status as PluginStatus);
    }
  }
}
