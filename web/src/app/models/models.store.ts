import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { Observable, firstValueFrom } from 'rxjs';
import { AuthStore } from '../core/auth.store';
import { LiveSocket } from '../core/live-socket';
import { Problem, attempt } from '../core/problem';
import { DownloadStarted, Model, Progress } from '../core/types';

export const MODEL_KINDS = ['embedding', 'llm', 'face-detector', 'face-embedder', 'generic'] as const;

export interface DownloadForm { name: string; kind: string; url: string; sha256: string; }

const FINISHED = new Set(['DONE', 'FAILED', 'CANCELLED']);

/** The model catalog, and the live progress of each download started or found running. */
@Injectable({ providedIn: 'root' })
export class ModelsStore {
  private readonly http = inject(HttpClient);
  private readonly auth = inject(AuthStore);

  readonly models = signal<Model[]>([]);
  readonly problem = signal<Problem | null>(null);
  /** The latest progress by model id. */
  readonly progress = signal<Record<string, Progress>>({});
  private readonly sockets = new Map<string, LiveSocket<Progress & { type: string }>>();

  async load(): Promise<void> {
    await attempt(this.problem, async () => {
      const { models } = await firstValueFrom(this.http.get<{ models: Model[] }>('/api/models'));
      this.models.set(models);
      models.filter(m => m.status === 'DOWNLOADING').forEach(m => this.follow(m.id));
    });
  }

  async download(form: DownloadForm): Promise<boolean> {
    const body: Record<string, unknown> = { name: form.name.trim(), kind: form.kind, url: form.url.trim() };
    if (form.sha256.trim()) {
      body['sha256'] = form.sha256.trim();
    }
    const started = await attempt(this.problem, async () => {
      this.follow((await firstValueFrom(this.http.post<DownloadStarted>('/api/models/download', body))).modelId);
    });
    if (started) {
      await this.load();
    }
    return started;
  }

  async validate(id: string): Promise<void> {
    await this.run(() => this.http.post(`/api/models/${encodeURIComponent(id)}/validate?runInference=true`, null));
  }

  async remove(id: string): Promise<void> {
    await this.run(() => this.http.delete(`/api/models/${encodeURIComponent(id)}`));
  }

  async cancel(jobId: string): Promise<void> {
    await this.run(() => this.http.delete(`/api/models/jobs/${encodeURIComponent(jobId)}`));
  }

  stopFollowing(): void {
    this.sockets.forEach(s => s.stop());
    this.sockets.clear();
  }

  /** Follows one download's progress socket until it ends, then reloads the catalog. */
  private follow(modelId: string): void {
    if (this.sockets.has(modelId)) {
      return;
    }
    const path = `/ws/models/${encodeURIComponent(modelId)}/progress`;
    const socket = new LiveSocket<Progress & { type: string }>(() => path, () => this.auth.token(), message => {
      if (message.type !== 'progress') {
        return;
      }
      this.progress.update(all => ({ ...all, [modelId]: message }));
      if (FINISHED.has(message.state)) {
        socket.stop();
        this.sockets.delete(modelId);
        void this.load();
      }
    });
    this.sockets.set(modelId, socket);
    socket.start();
  }

  /** One change to the catalog, then the list read again (not after a failure: its problem stays shown). */
  private async run(call: () => Observable<unknown>): Promise<void> {
    if (await attempt(this.problem, () => firstValueFrom(call()))) {
      await this.load();
    }
  }
}
