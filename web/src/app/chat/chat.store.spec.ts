import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AuthStore } from '../core/auth.store';
import {
  CHAT_FETCH, ChatStore, ChatTurn, SseDecoder, SseParser, checkSetting, conversation, readEvents, requestBody, settingErrors,
  statsText,
} from './chat.store';

const bytes = (text: string) => new TextEncoder().encode(text);
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'tiny',
    choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: null }] })}\n\n`;
const last = (finish = 'stop') =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'tiny',
    choices: [{ index: 0, delta: {}, finish_reason: finish }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    timings: { time_to_first_token_ms: 85, tokens_per_second: 41.25, duration_ms: 150 } })}\n\n`;

/** A response body the test feeds piece by piece; an abort of `signal` errors it the way fetch does. */
function controlledStream(signal?: AbortSignal | null) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: c => { controller = c; } });
  signal?.addEventListener('abort', () => controller.error(new DOMException('The user aborted a request.', 'AbortError')));
  return {
    body,
    send: (piece: string | Uint8Array) => controller.enqueue(typeof piece === 'string' ? bytes(piece) : piece),
    close: () => controller.close(),
  };
}

const streamResponse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
const problemResponse = (status: number, problem: object, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(problem), { status, headers: { 'Content-Type': 'application/problem+json', ...headers } });
/** Lets the store's awaits (fetch, each read) run on. */
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve));
  }
};

describe('SseParser', () => {
  it('splits events at blank lines, joins data lines, skips comments and other fields', () => {
    const parser = new SseParser();
    expect(parser.push(': keep-alive\nevent: x\nid: 3\ndata: one\ndata:two\n\ndata: [DONE]\n\n')).toEqual(['one\ntwo', '[DONE]']);
  });

  it('takes pieces split anywhere, \\r\\n and \\r line ends included', () => {
    const text = 'data: {"a":1}\r\n\r\ndata: {"b":2}\r\rdata: x\n\n';
    for (let size = 1; size <= 4; size++) {
      const parser = new SseParser();
      const events: string[] = [];
      for (let i = 0; i < text.length; i += size) {
        events.push(...parser.push(text.substring(i, i + size)));
      }
      expect(events, `pieces of ${size}`).toEqual(['{"a":1}', '{"b":2}', 'x']);
    }
  });

  it('a \\r at the end of one piece and \\n at the start of the next make one line end', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\n\r')).toEqual([]);
    expect(parser.push('\ndata: b\n\n')).toEqual(['a', 'b']);
  });

  it('at the end, a last event without its blank line still counts', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\n\ndata: b')).toEqual(['a']);
    expect(parser.end()).toEqual(['b']);
  });
});

describe('SseDecoder', () => {
  it('decodes a multi-byte character split between two chunks whole', () => {
    const all = bytes(chunk('héllo 👋'));
    const euro = bytes('€');
    expect(euro.length).toBe(3);
    const decoder = new SseDecoder();
    const wave = all.indexOf(0xf0); // the 4-byte emoji: cut inside it
    const events = [...decoder.push(all.subarray(0, wave + 2)), ...decoder.push(all.subarray(wave + 2)),
      ...decoder.push(bytes('data: ').subarray()), ...decoder.push(euro.subarray(0, 1)), ...decoder.push(euro.subarray(1)),
      ...decoder.push(bytes('\n\n')), ...decoder.end()];
    expect(events.length).toBe(2);
    expect(JSON.parse(events[0]).choices[0].delta.content).toBe('héllo 👋');
    expect(events[1]).toBe('€');
  });

  it('readEvents hands over every event of a body read in odd chunks, and stops when told', async () => {
    const text = chunk('a') + chunk('b') + 'data: [DONE]\n\n' + chunk('never');
    const all = bytes(text);
    const body = new ReadableStream<Uint8Array>({
      start: c => {
        for (let i = 0; i < all.length; i += 7) {
          c.enqueue(all.subarray(i, i + 7));
        }
        c.close();
      },
    });
    const seen: string[] = [];
    await readEvents(body, data => {
      seen.push(data);
      return data === '[DONE]';
    });
    expect(seen.length).toBe(3);
    expect(seen[2]).toBe('[DONE]');
  });
});

describe('chat helpers', () => {
  it('checks settings against their bounds; empty means the server default', () => {
    expect(checkSetting('temperature', null)).toBeNull();
    expect(checkSetting('temperature', '')).toBeNull();
    expect(checkSetting('temperature', 0)).toBeNull();
    expect(checkSetting('temperature', -0.1)).toBe('must be ≥ 0');
    expect(checkSetting('top_p', 1.5)).toBe('must be ≤ 1');
    expect(checkSetting('top_k', 2.5)).toBe('must be a whole number');
    expect(checkSetting('repetition_penalty', 0)).toBe('must be > 0');
    expect(checkSetting('max_tokens', 0)).toBe('must be ≥ 1');
    expect(checkSetting('seed', 'x')).toBe('must be a number');
    expect(settingErrors({ temperature: 0.7, top_p: 0.95, top_k: 40, min_p: 0.05, repetition_penalty: 1.1, max_tokens: 256, seed: 123 }))
      .toEqual({});
    expect(Object.keys(settingErrors({ temperature: -1, min_p: 2 }))).toEqual(['temperature', 'min_p']);
  });

  it('the request body leaves out what the user left empty', () => {
    const messages = conversation(' be brief ', [{ id: 1, role: 'user', content: 'hi', state: 'done' }]);
    expect(messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }]);
    expect(conversation('  ', [])).toEqual([]);
    expect(requestBody('tiny', messages, { temperature: 0.7, top_k: '40', seed: null, max_tokens: undefined, min_p: '' }))
      .toEqual({ model: 'tiny', messages, stream: true, temperature: 0.7, top_k: 40 });
  });

  it('the stats line: the server\'s figures, else what was measured here', () => {
    const turn: ChatTurn = { id: 1, role: 'assistant', content: 'x', state: 'done', finishReason: 'length',
      usage: { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 },
      timings: { time_to_first_token_ms: 85.4, tokens_per_second: 41.25, duration_ms: 1050 } };
    expect(statsText(turn)).toBe('41.3 tokens/s · first token 85 ms · 12 prompt + 40 completion tokens · 1.05 s · length');
    const measured: ChatTurn = { id: 2, role: 'assistant', content: 'abc', state: 'stopped', chunks: 11,
      sentAt: 1000, firstAt: 1100, lastAt: 2100 };
    expect(statsText(measured)).toBe('10.0 tokens/s · first token 100 ms · 11 chunks · stopped');
  });
});

describe('ChatStore', () => {
  let store: ChatStore;
  let http: HttpTestingController;
  let fetch: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    fetch = vi.fn();
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([]), { provide: CHAT_FETCH, useValue: fetch }],
    });
    store = TestBed.inject(ChatStore);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  async function loaded(models = [{ id: 'tiny', object: 'model', kind: 'llm' }, { id: 'minilm', object: 'model', kind: 'embedding' }]) {
    const done = store.loadModels();
    http.expectOne('/v1/models').flush({ object: 'list', data: models });
    await done;
  }

  it('lists only the llm models and picks the first', async () => {
    await loaded();
    expect(store.chatModels().map(m => m.id)).toEqual(['tiny']);
    expect(store.model()).toBe('tiny');
    expect(store.noModel()).toBe(false);
  });

  it('says there is no chat model when the list has none', async () => {
    expect(store.noModel()).toBe(false); // not known yet
    await loaded([{ id: 'minilm', object: 'model', kind: 'embedding' }]);
    expect(store.noModel()).toBe(true);
    expect(store.model()).toBe('');
    expect(await store.send('hi')).toBe('refused');
    expect(fetch).not.toHaveBeenCalled();
  });

  it('streams a reply token by token with the token, the body and the figures of the last chunk', async () => {
    TestBed.inject(AuthStore)['session'].set({ token: 'tok', expiresAt: '2999-01-01T00:00:00Z', username: 'a', admin: true, scopes: [] });
    await loaded();
    store.system.set('be brief');
    store.setting('temperature', 0.5);
    store.setting('max_tokens', 64);
    const stream = controlledStream();
    fetch.mockResolvedValue(streamResponse(stream.body));

    const done = store.send('  Hello there ');
    expect(store.streaming()).toBe(true);
    const [url, init] = fetch.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('/v1/chat/completions');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Authorization']).toBe('Bearer tok');
    expect(JSON.parse(init.body as string)).toEqual({
      model: 'tiny', stream: true, temperature: 0.5, max_tokens: 64,
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Hello there' }],
    });
    expect(store.turns().map(t => [t.role, t.content, t.state])).toEqual([['user', 'Hello there', 'done'], ['assistant', '', 'streaming']]);

    stream.send(chunk('Hi'));
    await settle();
    expect(store.turns()[1].content).toBe('Hi');
    // two events in one piece, then one split inside its JSON
    const rest = chunk(' the') + chunk('re') + last();
    stream.send(rest.substring(0, rest.length - 40));
    await settle();
    expect(store.turns()[1].content).toBe('Hi there');
    stream.send(rest.substring(rest.length - 40) + 'data: [DONE]\n\n');
    stream.close();
    expect(await done).toBe('sent');

    const reply = store.turns()[1];
    expect(reply.state).toBe('done');
    expect(reply.finishReason).toBe('stop');
    expect(reply.usage?.completion_tokens).toBe(3);
    expect(statsText(reply)).toContain('41.3 tokens/s');
    expect(statsText(reply)).toContain('first token 85 ms');
    expect(store.streaming()).toBe(false);
    expect(store.problem()).toBeNull();

    // the next send carries the conversation so far
    const next = controlledStream();
    fetch.mockResolvedValue(streamResponse(next.body));
    const again = store.send('more');
    const body = JSON.parse((fetch.mock.calls[1] as [string, RequestInit])[1].body as string);
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(body.messages[2].content).toBe('Hi there');
    next.send(last() + 'data: [DONE]\n\n');
    next.close();
    await again;
  });

  it('a 409 (no chat model) is a notice with the problem\'s detail; the message is taken back', async () => {
    await loaded();
    fetch.mockResolvedValue(problemResponse(409, { type: 'about:blank', title: 'No chat model installed', status: 409,
      detail: 'pull one: ./bkg pull owner/repo' }));
    expect(await store.send('hi')).toBe('refused');
    expect(store.problem()).toEqual(expect.objectContaining({ status: 409, title: 'No chat model installed',
      detail: 'pull one: ./bkg pull owner/repo' }));
    expect(store.turns()).toEqual([]);
    expect(store.streaming()).toBe(false);
  });

  it('a 429 says when to try again', async () => {
    await loaded();
    fetch.mockResolvedValue(problemResponse(429, { title: 'Too many requests', status: 429, detail: 'the queue is full' },
      { 'Retry-After': '3' }));
    expect(await store.send('hi')).toBe('refused');
    expect(store.problem()?.detail).toBe('the queue is full — try again in 3 s');
  });

  it('a 401 ends the session', async () => {
    await loaded();
    const auth = TestBed.inject(AuthStore);
    const expired = vi.spyOn(auth, 'expired').mockImplementation(() => undefined);
    fetch.mockResolvedValue(problemResponse(401, { title: 'Unauthorized', status: 401 }));
    expect(await store.send('hi')).toBe('refused');
    expect(expired).toHaveBeenCalled();
  });

  it('an unreachable gateway is a problem, not a crash', async () => {
    await loaded();
    fetch.mockRejectedValue(new TypeError('Failed to fetch'));
    expect(await store.send('hi')).toBe('refused');
    expect(store.problem()?.title).toBe('The gateway cannot be reached');
  });

  it('an error event mid-stream keeps the text so far and shows the error', async () => {
    await loaded();
    const stream = controlledStream();
    fetch.mockResolvedValue(streamResponse(stream.body));
    const done = store.send('hi');
    stream.send(chunk('part'));
    stream.send('data: {"error":{"message":"the model ran out of memory","type":"server_error"}}\n\n');
    stream.close();
    expect(await done).toBe('sent');
    const reply = store.turns()[1];
    expect(reply.content).toBe('part');
    expect(reply.state).toBe('error');
    expect(reply.error).toBe('the model ran out of memory');
    expect(store.problem()?.detail).toContain('the model ran out of memory');
  });

  it('a stream that ends without a finish is marked broken off', async () => {
    await loaded();
    const stream = controlledStream();
    fetch.mockResolvedValue(streamResponse(stream.body));
    const done = store.send('hi');
    stream.send(chunk('par'));
    stream.close();
    await done;
    expect(store.turns()[1].state).toBe('error');
  });

  it('stop aborts the request and keeps the partial reply, marked stopped', async () => {
    await loaded();
    let signal: AbortSignal | null | undefined;
    let stream!: ReturnType<typeof controlledStream>;
    fetch.mockImplementation(async (_url: string, init: RequestInit) => {
      signal = init.signal;
      stream = controlledStream(signal);
      return streamResponse(stream.body);
    });
    const done = store.send('count to a million');
    await settle();
    stream.send(chunk('1, 2,'));
    await settle();
    expect(store.turns()[1].content).toBe('1, 2,');
    store.stop();
    expect(signal?.aborted).toBe(true);
    expect(await done).toBe('sent');
    const reply = store.turns()[1];
    expect(reply.state).toBe('stopped');
    expect(reply.content).toBe('1, 2,');
    expect(statsText(reply)).toContain('stopped');
    expect(store.streaming()).toBe(false);
    expect(store.problem()).toBeNull();
  });

  it('stop before the answer came keeps the turn, marked stopped', async () => {
    await loaded();
    fetch.mockImplementation((_url: string, init: RequestInit) => new Promise((_, reject) =>
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))));
    const done = store.send('hi');
    store.stop();
    expect(await done).toBe('sent');
    expect(store.turns().map(t => t.state)).toEqual(['done', 'stopped']);
  });

  it('refuses settings out of bounds without asking the server', async () => {
    await loaded();
    store.setting('temperature', -1);
    expect(store.settingsValid()).toBe(false);
    expect(await store.send('hi')).toBe('refused');
    expect(fetch).not.toHaveBeenCalled();
  });

  it('new chat stops a reply streaming and empties the conversation', async () => {
    await loaded();
    fetch.mockImplementation(async (_url: string, init: RequestInit) => streamResponse(controlledStream(init.signal).body));
    const done = store.send('hi');
    await settle();
    store.clear();
    await done;
    expect(store.turns()).toEqual([]);
    expect(store.streaming()).toBe(false);
  });
});
