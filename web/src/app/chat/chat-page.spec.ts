import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component, input, signal } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { ChatPage } from './chat-page';
import { CHAT_FETCH } from './chat.store';

const encoder = new TextEncoder();
const chunk = (content: string) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const last = () => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
  timings: { time_to_first_token_ms: 40, tokens_per_second: 55.5, duration_ms: 80 } })}\n\ndata: [DONE]\n\n`;

/** Stands in for the real dashboard (sockets, charts): the tab only has to show it, for llmserver. */
@Component({ selector: 'bkg-plugin-dashboard', template: 'dashboard of {{ pluginId() }}' })
class FakeDashboard {
  readonly pluginId = input.required<string>();
}

/** The page as a person sees it: pick a model, type, Enter, the reply grows; Stop; the no-model notice. */
describe('ChatPage', () => {
  let http: HttpTestingController;
  let fetch: ReturnType<typeof vi.fn>;
  /** The body of the reply being streamed; an abort errors it like the browser's fetch does. */
  let stream: { send: (text: string) => void; close: () => void };

  beforeEach(() => {
    fetch = vi.fn(async (_url: string, init: RequestInit) => {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: c => { controller = c; } });
      init.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
      stream = { send: text => controller.enqueue(encoder.encode(text)), close: () => controller.close() };
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    });
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([]), { provide: CHAT_FETCH, useValue: fetch },
        // no socket in a unit test: a plugin list that says llmserver runs
        { provide: PluginsStore, useValue: { watch: () => undefined, byId: signal(new Map([['llmserver', { status: { state: 'RUNNING' } }]])) } }],
    });
    TestBed.overrideComponent(ChatPage, { remove: { imports: [PluginDashboard] }, add: { imports: [FakeDashboard] } });
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  async function open(models: object[]): Promise<{ fixture: ComponentFixture<ChatPage>; el: HTMLElement; settled: () => Promise<void> }> {
    const fixture = TestBed.createComponent(ChatPage);
    const el = fixture.nativeElement as HTMLElement;
    // lets the store's awaits (and the stream's reads) finish, then the page render what they set
    const settled = async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise(resolve => setTimeout(resolve));
      }
      await fixture.whenStable();
    };
    await settled();
    http.expectOne('/v1/models').flush({ object: 'list', data: models });
    await settled();
    return { fixture, el, settled };
  }

  const byId = (el: HTMLElement, id: string) => el.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;
  const type = (el: HTMLElement, id: string, value: string) => {
    const input = byId(el, id) as HTMLInputElement | HTMLTextAreaElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };

  it('streams a reply as it comes, with its figures; Stop keeps the partial reply, marked stopped', async () => {
    const { el, settled } = await open([{ id: 'tiny-chat', object: 'model', kind: 'llm' }, { id: 'minilm', object: 'model', kind: 'embedding' }]);
    expect(byId(el, 'chat-state')?.textContent).toContain('RUNNING');
    const select = byId(el, 'chat-model') as HTMLSelectElement;
    expect([...select.options].map(o => o.value)).toEqual(['tiny-chat']);
    expect(select.value).toBe('tiny-chat');
    expect(byId(el, 'chat-notice')).toBeNull();
    expect((byId(el, 'chat-send') as HTMLButtonElement).disabled).toBe(true); // nothing typed yet

    type(el, 'chat-input', 'Hello there');
    await settled();
    // Shift+Enter is a new line, not a send
    byId(el, 'chat-input')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true, bubbles: true }));
    expect(fetch).not.toHaveBeenCalled();
    byId(el, 'chat-input')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await settled();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect((byId(el, 'chat-input') as HTMLTextAreaElement).value).toBe('');
    expect(byId(el, 'chat-stop')).not.toBeNull();
    expect((byId(el, 'chat-send') as HTMLButtonElement).disabled).toBe(true);

    stream.send(chunk('Hi'));
    await settled();
    const messages = () => [...el.querySelectorAll('[data-testid="chat-message"]')] as HTMLElement[];
    expect(messages().map(m => m.getAttribute('data-role'))).toEqual(['user', 'assistant']);
    expect(messages()[0].textContent).toContain('Hello there');
    expect(messages()[1].querySelector('[data-testid="chat-text"]')?.textContent).toContain('Hi');
    expect(messages()[1].getAttribute('data-state')).toBe('streaming');
    expect(byId(el, 'chat-stats')).toBeNull(); // figures come with the end

    stream.send(chunk(' you') + last());
    stream.close();
    await settled();
    expect(messages()[1].querySelector('[data-testid="chat-text"]')?.textContent?.trim()).toBe('Hi you');
    expect(messages()[1].getAttribute('data-state')).toBe('done');
    const stats = messages()[1].querySelector('[data-testid="chat-stats"]')?.textContent ?? '';
    expect(stats).toContain('55.5 tokens/s');
    expect(stats).toContain('first token 40 ms');
    expect(stats).toContain('9 prompt + 2 completion tokens');
    expect(stats).toContain('stop');
    expect(byId(el, 'chat-stop')).toBeNull();

    // a second message, stopped while it streams
    type(el, 'chat-input', 'Count to a million');
    await settled();
    byId(el, 'chat-send')!.click();
    await settled();
    stream.send(chunk('1, 2, 3'));
    await settled();
    byId(el, 'chat-stop')!.click();
    await settled();
    expect(messages().length).toBe(4);
    expect(messages()[3].getAttribute('data-state')).toBe('stopped');
    expect(messages()[3].querySelector('[data-testid="chat-stopped"]')?.textContent).toContain('stopped');
    expect(messages()[3].querySelector('[data-testid="chat-text"]')?.textContent?.trim()).toBe('1, 2, 3');
    expect(messages()[3].querySelector('[data-testid="chat-stats"]')?.textContent).toContain('stopped');
    expect(byId(el, 'chat-stop')).toBeNull();
    type(el, 'chat-input', 'again');
    await settled();
    expect((byId(el, 'chat-send') as HTMLButtonElement).disabled).toBe(false);

    // New chat empties the conversation
    byId(el, 'chat-new')!.click();
    await settled();
    expect(messages().length).toBe(0);
  });

  it('sampling settings: collapsed at first, bounds checked, values sent, empty ones left to the server', async () => {
    const { el, settled } = await open([{ id: 'tiny-chat', object: 'model', kind: 'llm' }]);
    expect(byId(el, 'chat-setting-temperature')).toBeNull();
    byId(el, 'chat-settings')!.click();
    await settled();
    type(el, 'chat-setting-temperature', '-1');
    type(el, 'chat-input', 'hi');
    await settled();
    expect(byId(el, 'chat-setting-error-temperature')?.textContent).toContain('must be ≥ 0');
    expect((byId(el, 'chat-send') as HTMLButtonElement).disabled).toBe(true);

    type(el, 'chat-setting-temperature', '0.7');
    type(el, 'chat-setting-max_tokens', '2000');
    await settled();
    expect(byId(el, 'chat-setting-error-temperature')).toBeNull();
    byId(el, 'chat-send')!.click();
    await settled();
    const body = JSON.parse((fetch.mock.calls[0] as [string, RequestInit])[1].body as string);
    expect(body).toEqual({ model: 'tiny-chat', stream: true, temperature: 0.7, max_tokens: 2000, messages: [{ role: 'user', content: 'hi' }] });
    stream.send(last());
    stream.close();
    await settled();
  });

  it('says plainly when no chat model is installed, and shows the 409 a send gets', async () => {
    const { el, settled } = await open([{ id: 'minilm', object: 'model', kind: 'embedding' }]);
    const notice = byId(el, 'chat-notice');
    expect(notice?.textContent).toContain('No chat model is installed');
    expect(notice?.textContent).toContain('./bkg pull <owner/repo>');
    expect(notice?.textContent).toContain('kind "llm"');
    expect((byId(el, 'chat-model') as HTMLSelectElement).disabled).toBe(true);

    // the model list comes back with one after a pull; the server meanwhile lost it again: 409
    byId(el, 'chat-reload-models')!.click();
    http.expectOne('/v1/models').flush({ object: 'list', data: [{ id: 'tiny-chat', object: 'model', kind: 'llm' }] });
    await settled();
    expect(byId(el, 'chat-notice')).toBeNull();
    fetch.mockResolvedValueOnce(new Response(JSON.stringify({ type: 'about:blank', title: 'No chat model', status: 409,
      detail: 'no chat model is installed: ./bkg pull owner/repo' }), { status: 409, headers: { 'Content-Type': 'application/problem+json' } }));
    type(el, 'chat-input', 'Hello there');
    await settled();
    byId(el, 'chat-send')!.click();
    await settled();
    expect(byId(el, 'chat-notice')?.textContent).toContain('no chat model is installed: ./bkg pull owner/repo');
    expect(byId(el, 'chat-notice')?.classList.contains('error')).toBe(false);
    expect(el.querySelectorAll('[data-testid="chat-message"]').length).toBe(0);
    expect((byId(el, 'chat-input') as HTMLTextAreaElement).value).toBe('Hello there'); // back, to be sent again
  });

  it('keeps the Dashboard tab', async () => {
    const { el, settled } = await open([]);
    const tabs = [...el.querySelectorAll('[role="tab"]')] as HTMLButtonElement[];
    expect(tabs.map(t => t.textContent?.trim())).toEqual(['Chat', 'Dashboard']);
    expect(tabs[0].getAttribute('aria-selected')).toBe('true');
    expect(byId(el, 'chat-input')).not.toBeNull();
    tabs[1].click();
    await settled();
    expect(el.querySelector('bkg-plugin-dashboard')?.textContent).toContain('dashboard of llmserver');
    expect(byId(el, 'chat-input')).toBeNull();
  });
});
