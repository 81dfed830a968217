import { Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { AutoScroll } from '../shared/auto-scroll.directive';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { Tabs } from '../shared/tabs';
import { ChatStore, NO_MODEL_HINT, SETTING_BOUNDS, SETTING_NAMES, statsText } from './chat.store';

/** The llmserver plugin: chat with an installed model, the reply streaming in token by token; and its dashboard. */
@Component({
  selector: 'bkg-chat-page',
  imports: [FormsModule, RouterLink, AutoScroll, Spinner, StatusBadge, Tabs, PluginDashboard],
  template: `
    <bkg-tabs [tabs]="['Chat', 'Dashboard']" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard pluginId="llmserver" />
    } @else {
      <div class="row"><h1>Chat</h1>
        <bkg-status-badge [state]="state()" data-testid="chat-state" />
        @if (state() !== 'RUNNING') { <span class="muted">llmserver is not running: start it on the Dashboard tab.</span> }
        @if (store.streaming()) { <bkg-spinner label="streaming…" /> }
      </div>
      @if (store.problem(); as p) {
        <div class="notice" [class.error]="p.status !== 409" role="alert" data-testid="chat-notice">
          <strong>{{ p.title }}</strong>@if (p.status) { <span class="muted"> ({{ p.status }})</span> }
          @if (p.detail) { <div class="detail">{{ p.detail }}</div> }
          @for (e of p.errors ?? []; track e.field) { <div class="mono">{{ e.field }}: {{ e.message }}</div> }
          <button class="close" (click)="store.problem.set(null)" aria-label="dismiss">×</button>
        </div>
      } @else if (store.noModel()) {
        <div class="notice" role="status" data-testid="chat-notice">
          <strong>No chat model is installed.</strong>
          <div class="detail">{{ noModelHint }}</div>
          <div class="muted">The <a routerLink="/models">Models</a> page shows what is installed.</div>
        </div>
      }
      <div class="layout">
        <section class="panel conversation">
          <div class="messages" [bkgAutoScroll]="store.growth()" data-testid="chat-messages">
            @for (t of store.turns(); track t.id) {
              <div class="message" [class]="'message ' + t.role" data-testid="chat-message" [attr.data-role]="t.role"
                   [attr.data-state]="t.state">
                <div class="who">{{ t.role === 'user' ? 'you' : (t.model ?? 'assistant') }}
                  @if (t.state === 'stopped') { <span class="tag" data-testid="chat-stopped">stopped</span> }
                  @if (t.state === 'error') { <span class="tag bad">broke off</span> }
                </div>
                <div class="text"><span data-testid="chat-text">{{ t.content }}</span>@if (t.state === 'streaming') {<span class="caret">▍</span>}</div>
                @if (t.error) { <div class="field-error">{{ t.error }}</div> }
                @if (t.role === 'assistant' && t.state !== 'streaming') {
                  <div class="stats muted" data-testid="chat-stats">{{ stats(t) }}</div>
                }
              </div>
            } @empty {
              <p class="muted">No messages yet: type below and press Enter (Shift+Enter for a new line).</p>
            }
          </div>
          <div class="compose">
            <textarea rows="3" placeholder="a message (Enter sends, Shift+Enter for a new line)" aria-label="message"
                      [ngModel]="input()" (ngModelChange)="input.set($event)" (keydown)="keydown($event)"
                      data-testid="chat-input"></textarea>
            <div class="row">
              @if (store.streaming()) {
                <button class="danger" (click)="store.stop()" data-testid="chat-stop">Stop</button>
              }
              <button class="primary" (click)="send()" [disabled]="!canSend()" data-testid="chat-send">Send</button>
              <button (click)="store.clear()" [disabled]="!store.turns().length && !store.problem()" data-testid="chat-new">New chat</button>
              @if (!store.settingsValid()) { <span class="field-error">fix the sampling settings first</span> }
            </div>
          </div>
        </section>
        <section class="panel side">
          <label class="field">model
            <div class="row">
              <select class="grow" [ngModel]="store.model()" (ngModelChange)="store.model.set($event)"
                      [disabled]="!store.chatModels().length" data-testid="chat-model">
                @for (m of store.chatModels(); track m.id) { <option [value]="m.id">{{ m.id }}</option> }
                @empty { <option value="">{{ store.modelsLoaded() ? 'no chat model installed' : 'loading…' }}</option> }
              </select>
              <button (click)="store.loadModels()" [disabled]="store.loadingModels()" title="reload the model list"
                      data-testid="chat-reload-models">Reload</button>
            </div>
          </label>
          <label class="field">system prompt (optional)
            <textarea rows="3" [ngModel]="store.system()" (ngModelChange)="store.system.set($event)"
                      placeholder="e.g. You are a concise assistant." data-testid="chat-system"></textarea>
          </label>
          <button class="toggle" (click)="showSettings.set(!showSettings())" [attr.aria-expanded]="showSettings()"
                  data-testid="chat-settings">{{ showSettings() ? '▾' : '▸' }} Sampling settings
            @if (setCount(); as n) { <span class="muted">({{ n }} set)</span> }</button>
          @if (showSettings()) {
            <div class="settings" data-testid="chat-settings-form">
              <p class="muted">Empty fields use the server's defaults.</p>
              @for (name of names; track name) {
                <label class="field">
                  <span>{{ bounds[name].label }} <span class="muted">— {{ bounds[name].hint }}</span></span>
                  <input type="number" placeholder="default" [min]="bounds[name].min" [max]="bounds[name].max" [step]="bounds[name].step"
                         [ngModel]="store.settings()[name]" (ngModelChange)="store.setting(name, $event)"
                         [attr.data-testid]="'chat-setting-' + name">
                  @if (store.errors()[name]; as error) {
                    <span class="field-error" [attr.data-testid]="'chat-setting-error-' + name">{{ error }}</span>
                  }
                </label>
              }
              <button (click)="store.settings.set({})" [disabled]="!setCount()">Reset to defaults</button>
            </div>
          }
        </section>
      </div>
    }
  `,
  styles: `
    .layout { display: grid; gap: 14px; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); align-items: start; }
    @media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .notice { position: relative; background: #e8effd; color: var(--ink); border: 1px solid #c3d3fa; border-radius: 6px;
              padding: 8px 30px 8px 10px; margin: 8px 0; }
    .notice.error { background: #fde2e0; color: var(--bad); border-color: #f5b5ae; }
    .notice .detail { white-space: pre-wrap; }
    .close { position: absolute; right: 4px; top: 4px; border: 0; background: transparent; color: inherit; }
    .conversation { display: flex; flex-direction: column; gap: 10px; }
    .messages { max-height: 62vh; min-height: 200px; overflow-y: auto; display: flex; flex-direction: column; gap: 10px; }
    .message { max-width: 85%; padding: 8px 10px; border-radius: 8px; border: 1px solid var(--line); }
    .message.user { align-self: flex-end; background: #eef3ff; }
    .message.assistant { align-self: flex-start; background: #fafbfc; }
    .who { font-size: 12px; color: var(--muted); margin-bottom: 3px; display: flex; gap: 6px; align-items: center; }
    .text { white-space: pre-wrap; word-break: break-word; }
    .caret { color: var(--accent); animation: blink 1s steps(2) infinite; }
    @keyframes blink { 50% { opacity: 0; } }
    .tag { font-size: 11px; padding: 0 6px; border-radius: 999px; background: #fff1d6; color: var(--warn); }
    .tag.bad { background: #fde2e0; color: var(--bad); }
    .stats { font-size: 11px; margin-top: 4px; }
    .compose textarea { resize: vertical; margin-bottom: 6px; }
    .grow { flex: 1; min-width: 0; }
    .side select { max-width: 100%; }
    .toggle { width: 100%; text-align: left; border: 0; padding: 4px 0; background: transparent; font-weight: 600; }
    .settings { margin-top: 8px; }
    .settings input { width: 100%; }
  `,
})
export class ChatPage implements OnInit {
  protected readonly store = inject(ChatStore);
  private readonly plugins = inject(PluginsStore);
  protected readonly tab = signal('Chat');
  protected readonly state = computed(() => this.plugins.byId().get('llmserver')?.status.state ?? 'unknown');
  protected readonly input = signal('');
  protected readonly showSettings = signal(false);
  protected readonly names = SETTING_NAMES;
  protected readonly bounds = SETTING_BOUNDS;
  protected readonly noModelHint = NO_MODEL_HINT;
  protected readonly canSend = computed(() =>
    !!this.input().trim() && !!this.store.model() && !this.store.streaming() && this.store.settingsValid());
  protected readonly setCount = computed(() =>
    SETTING_NAMES.filter(n => { const v = this.store.settings()[n]; return v !== null && v !== undefined && v !== ''; }).length);
  protected readonly stats = statsText;

  ngOnInit(): void {
    this.plugins.watch();
    void this.store.loadModels();
  }

  /** Enter sends, Shift+Enter (or Enter while an input method composes) makes a new line. */
  protected keydown(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void this.send();
    }
  }

  protected async send(): Promise<void> {
    if (!this.canSend()) {
      return;
    }
    const text = this.input();
    this.input.set('');
    // refused (no model, busy, bad settings): the text comes back to be sent again, unless something new was typed
    if (await this.store.send(text) === 'refused' && !this.input()) {
      this.input.set(text);
    }
  }
}
