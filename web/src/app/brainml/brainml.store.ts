import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Problem, attempt } from '../core/problem';
import { Collection, QueryReply } from '../core/types';

const BASE = '/api/brainml/collections';

/** A document's id made from its text (FNV-1a, 32 bits): indexing the same text again replaces it. */
export function textId(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return 't-' + (hash >>> 0).toString(16).padStart(8, '0');
}

/** Turns "label | text" lines into brainml documents (the label is optional); blank lines are skipped. */
export function documentsFrom(lines: string): { id: string; text: string; label?: string }[] {
  return lines.split('\n').map(l => l.trim()).filter(l => l.length > 0).map(line => {
    const bar = line.indexOf('|');
    const label = bar > 0 ? line.substring(0, bar).trim() : '';
    const text = bar > 0 ? line.substring(bar + 1).trim() : line;
    return label ? { id: textId(text), text, label } : { id: textId(text), text };
  });
}

/** The brainml playground's state: collections, the last query's hits, and what the last action said. */
@Injectable({ providedIn: 'root' })
export class BrainmlStore {
  private readonly http = inject(HttpClient);

  readonly collections = signal<Collection[]>([]);
  readonly reply = signal<QueryReply | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly message = signal<string | null>(null);
  readonly busy = signal(false);

  async load(): Promise<void> {
    await this.run(async () => {
      const reply = await firstValueFrom(this.http.get<{ collections?: Collection[] }>(BASE));
      this.collections.set(reply.collections ?? []);
    });
  }

  async index(collection: string, lines: string): Promise<void> {
    const documents = documentsFrom(lines);
    await this.run(async () => {
      const reply = await firstValueFrom(this.http.post<{ indexed: number; durationMs: string }>(
        `${BASE}/${encodeURIComponent(collection)}/documents`, { documents, createCollection: true }));
      this.message.set(`indexed ${reply.indexed} documents in ${reply.durationMs} ms`);
      await this.load();
    });
  }

  async query(collection: string, text: string, topK: number): Promise<void> {
    await this.run(async () => {
      this.reply.set(await firstValueFrom(this.http.post<QueryReply>(`${BASE}/${encodeURIComponent(collection)}/query`,
        { text, topK })));
    });
  }

  async train(collection: string): Promise<void> {
    await this.run(async () => {
      const reply = await firstValueFrom(this.http.post<{ classes?: unknown[]; durationMs: string }>(
        `${BASE}/${encodeURIComponent(collection)}/train`, null));
      this.message.set(`trained in ${reply.durationMs} ms: ${reply.classes?.length ?? 0} labels`);
    });
  }

  async drop(collection: string): Promise<void> {
    await this.run(async () => {
      await firstValueFrom(this.http.delete(`${BASE}/${encodeURIComponent(collection)}`));
      this.reply.set(null);
      this.message.set(`dropped ${collection}`);
      await this.load();
    });
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    await attempt(this.problem, action);
    this.busy.set(false);
  }
}
