import { HttpClient } from '@angular/common/http';
import { Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { AuthStore } from '../core/auth.store';
import { Problem, attempt } from '../core/problem';

const MODELS_URL = '/v1/models';
const CHAT_URL = '/v1/chat/completions';

/** What the page says when no chat model is installed (before a send is even tried). */
export const NO_MODEL_HINT = 'Download one with ./bkg pull <owner/repo>, or POST /api/models/download with kind "llm"; '
  + 'then reload the list here.';

/** The fetch the chat stream goes through (HttpClient buffers; a stream needs the body as it comes). Tests replace it. */
export const CHAT_FETCH = new InjectionToken<typeof fetch>('fetch for /v1/chat/completions', {
  providedIn: 'root',
  factory: () => (input, init) => fetch(input, init),
});

/** One entry of GET /v1/models (OpenAI's shape plus the catalog's kind). */
export interface ModelEntry { id: string; object?: string; created?: number; owned_by?: string; kind?: string; }

export type Role = 'system' | 'user' | 'assistant';
export interface ChatMessage { role: Role; content: string; }

export interface Usage { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; }
export interface Timings { time_to_first_token_ms?: number; tokens_per_second?: number; duration_ms?: number; }

/** streaming: tokens still coming; done: the model finished; stopped: the user stopped it; error: it broke off. */
export type TurnState = 'streaming' | 'done' | 'stopped' | 'error';

/** One message of the conversation as shown; an assistant reply carries what the server said about it. */
export interface ChatTurn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  state: TurnState;
  model?: string;
  finishReason?: string | null;
  usage?: Usage | null;
  timings?: Timings | null;
  error?: string | null;
  /** Measured here: content chunks received, and when the request went, the first and the last came (ms). */
  chunks?: number;
  sentAt?: number;
  firstAt?: number | null;
  lastAt?: number | null;
}

// ---------------------------------------------------------------- sampling settings

export const SETTING_NAMES = ['temperature', 'top_p', 'top_k', 'min_p', 'repetition_penalty', 'max_tokens', 'seed'] as const;
export type SettingName = typeof SETTING_NAMES[number];
/** Sampling settings as typed in the form; an empty one (null, undefined or '') leaves the server's default. */
export type Settings = Partial<Record<SettingName, number | string | null>>;

export interface SettingBound { label: string; min: number; max: number; integer?: boolean; aboveMin?: boolean; step: number; hint: string; }

/** Bounds checked before sending (the server checks again and answers 400 with what it refuses). */
export const SETTING_BOUNDS: Record<SettingName, SettingBound> = {
  temperature: { label: 'temperature', min: 0, max: 5, step: 0.05, hint: '0 = greedy' },
  top_p: { label: 'top p', min: 0, max: 1, step: 0.05, hint: 'nucleus, 0–1' },
  top_k: { label: 'top k', min: 0, max: 1000, integer: true, step: 1, hint: '0 = off' },
  min_p: { label: 'min p', min: 0, max: 1, step: 0.01, hint: '0–1' },
  repetition_penalty: { label: 'repetition penalty', min: 0, max: 10, aboveMin: true, step: 0.05, hint: '1 = off' },
  max_tokens: { label: 'max tokens', min: 1, max: 131072, integer: true, step: 1, hint: 'reply length cap' },
  seed: { label: 'seed', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, step: 1, hint: 'same seed, same reply' },
};

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** Why one setting is refused, or null when it is fine (empty is fine: the server's default). */
export function checkSetting(name: SettingName, value: unknown): string | null {
  if (isEmpty(value)) {
    return null;
  }
  const bound = SETTING_BOUNDS[name];
  const n = Number(value);
  if (!Number.isFinite(n)) {
    return 'must be a number';
  }
  if (bound.integer && !Number.isInteger(n)) {
    return 'must be a whole number';
  }
  if (bound.aboveMin ? n <= bound.min : n < bound.min) {
    return `must be ${bound.aboveMin ? '>' : '≥'} ${bound.min}`;
  }
  if (n > bound.max) {
    return `must be ≤ ${bound.max}`;
  }
  return null;
}

/** Every refused setting with why; empty when all may be sent. */
export function settingErrors(settings: Settings): Partial<Record<SettingName, string>> {
  const errors: Partial<Record<SettingName, string>> = {};
  for (const name of SETTING_NAMES) {
    const error = checkSetting(name, settings[name]);
    if (error) {
      errors[name] = error;
    }
  }
  return errors;
}

/** The body of POST /v1/chat/completions: empty settings are left out so the server's defaults apply. */
export function requestBody(model: string, messages: ChatMessage[], settings: Settings): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages, stream: true };
  for (const name of SETTING_NAMES) {
    const value = settings[name];
    if (!isEmpty(value)) {
      body[name] = Number(value);
    }
  }
  return body;
}

/** The messages sent: the system prompt when there is one, then the conversation so far. */
export function conversation(system: string, turns: ChatTurn[]): ChatMessage[] {
  const messages: ChatMessage[] = system.trim() ? [{ role: 'system', content: system.trim() }] : [];
  return messages.concat(turns.map(t => ({ role: t.role, content: t.content })));
}

// ---------------------------------------------------------------- server-sent events

/**
 * Server-sent events from text that arrives in pieces split anywhere: lines end with \n, \r\n or \r
 * (a \r at the end of a piece waits for the next one, which may start with its \n); "data:" lines
 * are joined with \n and an event ends at a blank line; comments (":…") and other fields are skipped.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Takes the next piece of text; answers the data of each event it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') {
        continue;
      }
      if (c === '\r' && i + 1 === this.buffer.length) {
        break; // may be the first half of \r\n
      }
      this.line(this.buffer.substring(start, i), events);
      if (c === '\r' && this.buffer[i + 1] === '\n') {
        i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.substring(start);
    return events;
  }

  /** The stream ended: a last line and an event not closed by a blank line still count. */
  end(): string[] {
    const events = this.push('');
    if (this.buffer.length > 0) {
      this.line(this.buffer.replace(/\r$/, ''), events);
      this.buffer = '';
    }
    this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        events.push(this.data.join('\n'));
        this.data = [];
      }
      return;
    }
    if (line.startsWith(':')) {
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.substring(0, colon);
    let value = colon < 0 ? '' : line.substring(colon + 1);
    if (value.startsWith(' ')) {
      value = value.substring(1);
    }
    if (field === 'data') {
      this.data.push(value);
    }
  }
}

/** {@link SseParser} over bytes: a UTF-8 character split between two chunks is decoded whole. */
export class SseDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser = new SseParser();

  push(bytes: Uint8Array): string[] {
    return this.parser.push(this.decoder.decode(bytes, { stream: true }));
  }

  end(): string[] {
    const rest = this.parser.push(this.decoder.decode());
    return rest.concat(this.parser.end());
  }
}

/**
 * Reads a text/event-stream body to its end, handing each event's data to `onData`; `onData` answering
 * true stops the reading early (after [DONE]). Rejects as the reading does (an AbortError when aborted).
 */
export async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: string) => boolean | void): Promise<void> {
  const reader = body.getReader();
  const decoder = new SseDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const events = done ? decoder.end() : decoder.push(value);
      for (const data of events) {
        if (onData(data)) {
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
      if (done) {
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

// ---------------------------------------------------------------- figures

/** Tokens per second: the server's figure, else measured here from the chunks (one token each, roughly). */
export function tokensPerSecond(turn: ChatTurn): number | null {
  const server = turn.timings?.tokens_per_second;
  if (typeof server === 'number' && Number.isFinite(server)) {
    return server;
  }
  const chunks = turn.usage?.completion_tokens ?? turn.chunks ?? 0;
  if (turn.firstAt == null || turn.lastAt == null || chunks < 2 || turn.lastAt <= turn.firstAt) {
    return null;
  }
  return (chunks - 1) / ((turn.lastAt - turn.firstAt) / 1000);
}

/** Time to the first token: the server's figure, else measured here from the request to the first chunk. */
export function firstTokenMs(turn: ChatTurn): number | null {
  const server = turn.timings?.time_to_first_token_ms;
  if (typeof server === 'number' && Number.isFinite(server)) {
    return server;
  }
  return turn.firstAt != null && turn.sentAt != null ? turn.firstAt - turn.sentAt : null;
}

/** The small line under a reply: "41.2 tokens/s · first token 85 ms · 12 prompt + 40 completion tokens · stop". */
export function statsText(turn: ChatTurn): string {
  const parts: string[] = [];
  const rate = tokensPerSecond(turn);
  parts.push(rate === null ? '– tokens/s' : `${rate.toFixed(1)} tokens/s`);
  const first = firstTokenMs(turn);
  if (first !== null) {
    parts.push(`first token ${Math.round(first)} ms`);
  }
  const usage = turn.usage;
  if (usage && (usage.prompt_tokens !== undefined || usage.completion_tokens !== undefined)) {
    parts.push(`${usage.prompt_tokens ?? '?'} prompt + ${usage.completion_tokens ?? '?'} completion tokens`);
  } else if (turn.chunks) {
    parts.push(`${turn.chunks} chunks`);
  }
  if (turn.timings?.duration_ms !== undefined) {
    parts.push(`${(turn.timings.duration_ms / 1000).toFixed(2)} s`);
  }
  parts.push(turn.state === 'stopped' ? 'stopped' : turn.state === 'error' ? 'broke off' : turn.finishReason ?? 'no finish reason');
  return parts.join(' · ');
}

/** The problem an HTTP answer that is not a stream carries (RFC 7807 body, or whatever came instead). */
export async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '');
  let problem: Problem;
  try {
    const body = JSON.parse(text) as Partial<Problem> & { error?: { message?: string } };
    if (body && typeof body.title === 'string') {
      problem = { ...body, title: body.title, status: body.status ?? response.status };
    } else if (body?.error?.message) {
      problem = { title: response.statusText || 'Request failed', status: response.status, detail: body.error.message };
    } else {
      throw new Error('not a problem');
    }
  } catch {
    problem = { title: response.statusText || 'Request failed', status: response.status, detail: text.trim() || undefined };
  }
  const retry = response.headers.get('Retry-After');
  if (response.status === 429 && retry) {
    problem = { ...problem, detail: `${problem.detail ? problem.detail + ' — ' : ''}try again in ${retry} s` };
  }
  return problem;
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: string }).name === 'AbortError';
}

interface Chunk {
  choices?: { delta?: { content?: string | null }; message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: Usage | null;
  timings?: Timings | null;
  error?: { message?: string; type?: string } | string;
}

/** What a send came to: the reply streamed (to its end, a stop or a break), or the server refused it up front. */
export type SendOutcome = 'sent' | 'refused';

/** The Chat page's state: the chat models, the conversation, the reply streaming in, and what went wrong. */
@Injectable({ providedIn: 'root' })
export class ChatStore {
  private readonly http = inject(HttpClient);
  private readonly auth = inject(AuthStore);
  private readonly fetch = inject(CHAT_FETCH);
  private controller: AbortController | null = null;
  private nextId = 1;

  readonly models = signal<ModelEntry[]>([]);
  /** The list has been asked for once (so "no chat model" is not said before it is known). */
  readonly modelsLoaded = signal(false);
  readonly loadingModels = signal(false);
  readonly model = signal('');
  readonly system = signal('');
  readonly settings = signal<Settings>({});
  readonly turns = signal<ChatTurn[]>([]);
  /** What went wrong last: a refused send (409: no chat model, 429: busy, 400: bad settings), a broken stream, a failed list. */
  readonly problem = signal<Problem | null>(null);
  readonly streaming = signal(false);

  readonly chatModels = computed(() => this.models().filter(m => m.kind === 'llm'));
  readonly noModel = computed(() => this.modelsLoaded() && !this.loadingModels() && this.chatModels().length === 0);
  readonly errors = computed(() => settingErrors(this.settings()));
  readonly settingsValid = computed(() => Object.keys(this.errors()).length === 0);
  /** Changes with every token: what the conversation box follows to keep the newest text in view. */
  readonly growth = computed(() => this.turns().reduce((n, t) => n + t.content.length + 1, 0));

  constructor() {
    this.auth.onSignOut(() => this.forget());
  }

  async loadModels(): Promise<void> {
    this.loadingModels.set(true);
    await attempt(this.problem, async () => {
      const reply = await firstValueFrom(this.http.get<{ data?: ModelEntry[] }>(MODELS_URL));
      this.models.set(reply.data ?? []);
      const chat = this.chatModels();
      if (!chat.some(m => m.id === this.model())) {
        this.model.set(chat[0]?.id ?? '');
      }
    });
    this.loadingModels.set(false);
    this.modelsLoaded.set(true);
  }

  setting(name: SettingName, value: number | string | null): void {
    this.settings.update(s => ({ ...s, [name]: value }));
  }

  /**
   * Sends the user's text with the conversation so far and streams the reply into a new assistant turn.
   * Refused up front (HTTP error, gateway unreachable) the turn pair is taken back, so the text can be sent again.
   */
  async send(text: string): Promise<SendOutcome> {
    const content = text.trim();
    const model = this.model();
    if (!content || !model || this.streaming() || !this.settingsValid()) {
      return 'refused';
    }
    const user: ChatTurn = { id: this.nextId++, role: 'user', content, state: 'done' };
    const messages = conversation(this.system(), [...this.turns(), user]);
    const reply: ChatTurn = { id: this.nextId++, role: 'assistant', content: '', state: 'streaming', model, chunks: 0,
      sentAt: Date.now(), firstAt: null, lastAt: null };
    this.turns.update(list => [...list, user, reply]);
    this.problem.set(null);
    this.streaming.set(true);
    const controller = new AbortController();
    this.controller = controller;
    try {
      return await this.stream(reply.id, user.id, requestBody(model, messages, this.settings()), controller);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.streaming.set(false);
      }
    }
  }

  /** Stops the reply streaming in: the request is aborted (the server stops generating) and the text so far stays. */
  stop(): void {
    this.controller?.abort();
  }

  /** A new conversation (the model, system prompt and settings stay). */
  clear(): void {
    this.stop();
    this.controller = null;
    this.streaming.set(false);
    this.turns.set([]);
    this.problem.set(null);
  }

  private async stream(replyId: number, userId: number, body: Record<string, unknown>, controller: AbortController): Promise<SendOutcome> {
    let response: Response;
    try {
      const token = this.auth.token();
      response = await this.fetch(CHAT_URL, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json', Accept: 'text/event-stream',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (e) {
      if (isAbort(e)) {
        this.patch(replyId, { state: 'stopped' });
        return 'sent';
      }
      this.takeBack(replyId, userId);
      this.problem.set({ title: 'The gateway cannot be reached', status: 0,
        detail: e instanceof Error ? e.message : String(e) });
      return 'refused';
    }
    if (!response.ok) {
      if (response.status === 401) {
        this.auth.expired();
      }
      const problem = await problemOf(response);
      this.takeBack(replyId, userId);
      this.problem.set(problem);
      return 'refused';
    }

    let finished = false;
    const onData = (data: string): boolean => {
      if (data.trim() === '[DONE]') {
        finished = true;
        return true;
      }
      let chunk: Chunk;
      try {
        chunk = JSON.parse(data) as Chunk;
      } catch {
        return false; // not JSON: nothing this page understands
      }
      if (chunk.error) {
        const message = typeof chunk.error === 'string' ? chunk.error : chunk.error.message ?? 'the server reported an error';
        this.patch(replyId, { state: 'error', error: message });
        this.problem.set({ title: 'The reply broke off', status: 0,
          detail: message + (typeof chunk.error === 'object' && chunk.error.type ? ` (${chunk.error.type})` : '') });
        return false;
      }
      this.apply(replyId, chunk);
      return false;
    };

    try {
      const type = response.headers.get('Content-Type') ?? '';
      if (type.includes('application/json') || !response.body) {
        // a server that answered without streaming: one whole completion
        const whole = JSON.parse(await response.text()) as Chunk;
        onData(JSON.stringify(whole));
        finished = true;
      } else {
        await readEvents(response.body, onData);
      }
    } catch (e) {
      if (isAbort(e) || controller.signal.aborted) {
        this.patch(replyId, { state: 'stopped' });
        return 'sent';
      }
      this.patch(replyId, { state: 'error', error: e instanceof Error ? e.message : String(e) });
      this.problem.set({ title: 'The reply broke off', status: 0, detail: e instanceof Error ? e.message : String(e) });
      return 'sent';
    }
    const turn = this.turns().find(t => t.id === replyId);
    if (turn?.state === 'streaming') {
      if (finished || turn.finishReason) {
        this.patch(replyId, { state: 'done' });
      } else {
        const error = 'the stream ended before the reply was complete';
        this.patch(replyId, { state: 'error', error });
        this.problem.set({ title: 'The reply broke off', status: 0, detail: error });
      }
    }
    return 'sent';
  }

  private apply(replyId: number, chunk: Chunk): void {
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content ?? choice?.message?.content ?? '';
    const now = Date.now();
    this.turns.update(list => list.map(t => {
      if (t.id !== replyId || t.state !== 'streaming') {
        return t;
      }
      const next = { ...t };
      if (text) {
        next.content = t.content + text;
        next.chunks = (t.chunks ?? 0) + 1;
        next.firstAt = t.firstAt ?? now;
        next.lastAt = now;
      }
      if (choice?.finish_reason) {
        next.finishReason = choice.finish_reason;
      }
      if (chunk.usage) {
        next.usage = chunk.usage;
      }
      if (chunk.timings) {
        next.timings = chunk.timings;
      }
      return next;
    }));
  }

  private patch(id: number, change: Partial<ChatTurn>): void {
    this.turns.update(list => list.map(t => (t.id === id ? { ...t, ...change } : t)));
  }

  /** A send the server refused: its two turns go, so the conversation holds only what was answered. */
  private takeBack(replyId: number, userId: number): void {
    this.turns.update(list => list.filter(t => t.id !== replyId && t.id !== userId));
  }

  /** The next user must not see this one's conversation. */
  private forget(): void {
    this.clear();
    this.models.set([]);
    this.modelsLoaded.set(false);
    this.model.set('');
    this.system.set('');
    this.settings.set({});
  }
}
