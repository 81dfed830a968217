import { LiveSocket } from './live-socket';

class FakeSocket {
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  close = vi.fn();
  constructor(readonly url: string, readonly protocols: string[]) {}
}

describe('LiveSocket', () => {
  let sockets: FakeSocket[];
  let messages: unknown[];
  const open = (url: string, protocols: string[]) => {
    const socket = new FakeSocket(url, protocols);
    sockets.push(socket);
    return socket as unknown as WebSocket;
  };
  const make = (token: string | null = 'tok', path = () => '/api/live/logs') =>
    new LiveSocket<unknown>(path, () => token, m => messages.push(m), { baseDelayMs: 100, maxDelayMs: 1000, open });
  const last = () => sockets[sockets.length - 1];

  beforeEach(() => {
    sockets = [];
    messages = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('sends the token as a subprotocol and builds a ws:// url', () => {
    make('abc').start();
    expect(last().protocols).toEqual(['bkg.v1', 'bkg.bearer.abc']);
    expect(last().url).toMatch(/^ws:\/\/.*\/api\/live\/logs\?batch=true$/);
    make(null).start();
    expect(last().protocols).toEqual(['bkg.v1']);
  });

  it('goes connecting → open and delivers JSON messages only', () => {
    const live = make().start();
    expect(live.state()).toBe('connecting');
    last().onopen!({});
    expect(live.state()).toBe('open');
    last().onmessage!({ data: '{"seq":1}' });
    last().onmessage!({ data: 'not json' });
    expect(messages).toEqual([{ seq: 1 }]);
  });

  it('hands on the messages of a batch one by one, in order', () => {
    make().start();
    last().onopen!({});
    last().onmessage!({ data: '{"type":"batch","messages":[{"type":"log","seq":1},{"type":"log","seq":2}]}' });
    last().onmessage!({ data: '{"type":"skipped","count":3}' });
    expect(messages).toEqual([{ type: 'log', seq: 1 }, { type: 'log', seq: 2 }, { type: 'skipped', count: 3 }]);
  });

  it('reconnects after an abnormal close, asking the path again', () => {
    let afterSeq = 0;
    const live = make('t', () => `/logs?afterSeq=${afterSeq}`).start();
    last().onopen!({});
    afterSeq = 42;
    last().onclose!({ code: 1006, reason: '' });
    expect(live.state()).toBe('reconnecting');
    vi.advanceTimersByTime(live.delayFor(1) - 1);
    expect(sockets.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(2);
    expect(last().url).toMatch(/\/logs\?afterSeq=42&batch=true$/);
  });

  it('doubles the delay up to maxDelayMs and resets it after a successful open', () => {
    const live = make().start();
    expect([1, 2, 3, 4, 5, 6].map(n => live.delayFor(n))).toEqual([100, 200, 400, 800, 1000, 1000]);

    const failAndWait = (n: number) => {
      const before = sockets.length;
      last().onclose!({ code: 1006, reason: '' });
      vi.advanceTimersByTime(live.delayFor(n) - 1);
      expect(sockets.length).toBe(before);
      vi.advanceTimersByTime(1);
      expect(sockets.length).toBe(before + 1);
    };
    failAndWait(1);
    failAndWait(2);
    failAndWait(3);
    last().onopen!({});
    failAndWait(1);
  });

  it('ends for good on a 44xx close', () => {
    const live = make().start();
    last().onclose!({ code: 4404, reason: 'no such plugin' });
    expect(live.state()).toBe('closed');
    expect(live.closedReason()).toBe('no such plugin');
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
  });

  it('stop() closes the socket and cancels any reconnect', () => {
    const live = make().start();
    const first = last();
    first.onopen!({});
    live.stop();
    expect(first.close).toHaveBeenCalled();
    expect(live.state()).toBe('closed');
    first.onclose!({ code: 1006, reason: '' });
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
    expect(live.state()).toBe('closed');
  });

  it('stop() during a pending retry cancels it', () => {
    const live = make().start();
    last().onclose!({ code: 1006, reason: '' });
    live.stop();
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
  });
});
