import { signal } from '@angular/core';

export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Close codes after which reconnecting cannot help (the gateway's 44xx: unknown plugin or model, bad query). */
const FINAL_CLOSE = (code: number) => code >= 4400 && code < 4500;

export interface LiveSocketOptions {
  /** First retry delay; doubled each failed try, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: how a socket is made. */
  open?: (url: string, protocols: string[]) => WebSocket;
}

/**
 * One gateway WebSocket kept open: the session token travels as the subprotocol
 * "bkg.bearer.<token>" (browsers cannot set headers on sockets), each message is parsed JSON (a
 * {"type":"batch","messages":[...]} handed on one by one), and a dropped socket is opened again with exponential backoff while {@link state} says "reconnecting".
 */
export class LiveSocket<T> {
  readonly state = signal<SocketState>('connecting');
  /** Why the socket ended for good, e.g. "no such plugin". */
  readonly closedReason = signal<string | null>(null);

  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly open: (url: string, protocols: string[]) => WebSocket;

  constructor(
    private readonly path: () => string,
    private readonly token: () => string | null,
    private readonly onMessage: (message: T) => void,
    options: LiveSocketOptions = {},
  ) {
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 15000;
    this.open = options.open ?? ((url, protocols) => new WebSocket(url, protocols));
  }

  start(): this {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.socket?.close(1000, 'page left');
    this.socket = null;
    this.state.set('closed');
  }

  /** The delay before retry number n (1-based). */
  delayFor(n: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (n - 1));
  }

  private connect(): void {
    const location = globalThis.location;
    const scheme = location?.protocol === 'https:' ? 'wss' : 'ws';
    const path = this.path();
    // batch=true: lines that arrive together come as one message, far fewer frames for a busy log
    const url = `${scheme}://${location?.host ?? 'localhost'}${path}${path.includes('?') ? '&' : '?'}batch=true`;
    const token = this.token();
    const protocols = token ? ['bkg.v1', `bkg.bearer.${token}`] : ['bkg.v1'];
    const socket = this.open(url, protocols);
    this.socket = socket;
    socket.onopen = () => {
      this.failures = 0;
      this.state.set('open');
    };
    socket.onmessage = event => {
      let message: { type?: string; messages?: T[] };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return; // not JSON: nothing the page can show
      }
      for (const one of message.type === 'batch' && Array.isArray(message.messages) ? message.messages : [message as T]) {
        this.onMessage(one);
      }
    };
    socket.onclose = event => {
      if (this.socket !== socket || this.stopped) {
        return;
      }
      this.socket = null;
      if (FINAL_CLOSE(event.code)) {
        this.closedReason.set(event.reason || `closed (${event.code})`);
        this.state.set('closed');
        return;
      }
      this.failures++;
      this.state.set('reconnecting');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.stopped) {
          this.connect();
        }
      }, this.delayFor(this.failures));
    };
  }
}
