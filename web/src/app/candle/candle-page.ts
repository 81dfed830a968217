import { Component, OnDestroy, OnInit, computed, effect, inject, signal, untracked } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { BytesPipe } from '../shared/bytes.pipe';
import { ErrorAlert } from '../shared/error-alert';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { Tabs } from '../shared/tabs';
import {
  CandleStore, agoText, datatypeOf, expiryText, memoryText, reportLines, requestTemplate, shapeText, summarize, timingText,
} from './candle.store';

/** The loaded list is read again every this many seconds while the page is open. */
const REFRESH_EVERY = 5;

/** The candle plugin: load catalog models into ONNX Runtime, run them (OIP v2), quantize them to int8; and its dashboard. */
@Component({
  selector: 'bkg-candle-page',
  imports: [FormsModule, BytesPipe, ErrorAlert, Spinner, StatusBadge, Tabs, PluginDashboard],
  template: `
    <bkg-tabs [tabs]="['Models', 'Playground', 'Quantize', 'Dashboard']" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard pluginId="candle" />
    } @else {
      <div class="row"><h1>candle</h1>
        <bkg-status-badge [state]="state()" data-testid="candle-state" />
        @if (state() !== 'RUNNING') { <span class="muted">candle is not running: start it on the Dashboard tab.</span> }
        @if (store.busy(); as label) { <bkg-spinner [label]="label" /> }
      </div>
      <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
      @if (store.message(); as m) { <p class="muted" data-testid="candle-message">{{ m }}</p> }
      @switch (tab()) {
        @case ('Models') {
          <section class="panel">
            <h2>Load a model</h2>
            <div class="row">
              <select [(ngModel)]="loadModel" data-testid="candle-model">
                <option value="">choose a model</option>
                @for (m of store.loadable(); track m.id) { <option [value]="m.name">{{ m.name }} ({{ m.kind }})</option> }
              </select>
              <label>unload when idle
                <select [(ngModel)]="keepAlive" data-testid="candle-keep-alive">
                  @for (k of keepAlives; track k.seconds) { <option [ngValue]="k.seconds">{{ k.label }}</option> }
                </select></label>
              <button class="primary" (click)="store.load(loadModel, keepAlive)" [disabled]="!loadModel || !!store.busy()"
                      data-testid="candle-load">Load</button>
            </div>
          </section>
          <section class="panel">
            <div class="row"><h2>Loaded models</h2>
              @if (store.memory(); as mem) { <span class="muted" data-testid="candle-memory">{{ memory(mem.used, mem.budget) }}</span> }
            </div>
            <bkg-error-alert [problem]="store.listProblem()" (dismissed)="store.listProblem.set(null)" />
            <table data-testid="candle-loaded">
              <tr><th>name</th><th>provider</th><th>memory</th><th>inputs / outputs</th><th>inferences</th><th>last use</th>
                  <th>unloaded</th><th></th></tr>
              @for (m of store.loaded(); track m.modelId) {
                <tr [attr.data-model]="m.name">
                  <td>{{ m.name }}@if (m.dynamicBatch) { <span class="muted" title="concurrent requests share one run"> · batches</span> }</td>
                  <td>{{ m.provider }}</td><td>{{ m.memoryBytes | bytes }}</td>
                  <td>{{ m.inputs.length }} / {{ m.outputs.length }}</td><td>{{ m.inferences }}</td>
                  <td>{{ ago(m.lastUsedEpochMs, now()) }}</td><td>{{ expiry(m.expiresAtEpochMs, now()) }}</td>
                  <td><button (click)="store.unload(m.name)" [disabled]="!!store.busy()" data-testid="candle-unload">Unload</button></td>
                </tr>
              } @empty { <tr><td colspan="8" class="muted">no model loaded</td></tr> }
            </table>
          </section>
        }
        @case ('Playground') {
          <div class="grid playground">
            <section class="panel">
              <label class="field">model
                <select [ngModel]="playModel()" (ngModelChange)="pick($event)" data-testid="candle-play-model">
                  <option value="">choose a model</option>
                  @for (m of store.loadable(); track m.id) { <option [value]="m.name">{{ m.name }}</option> }
                </select></label>
              @if (signature(); as sig) {
                <table data-testid="candle-signature">
                  <tr><th></th><th>name</th><th>datatype</th><th>shape</th></tr>
                  @for (t of sig.inputs; track t.name) {
                    <tr data-kind="input"><td class="muted">input</td><td class="mono">{{ t.name }}</td>
                        <td>{{ datatype(t.elementType) }}</td><td class="mono">{{ shape(t.shape) }}</td></tr>
                  }
                  @for (t of sig.outputs; track t.name) {
                    <tr data-kind="output"><td class="muted">output</td><td class="mono">{{ t.name }}</td>
                        <td>{{ datatype(t.elementType) }}</td><td class="mono">{{ shape(t.shape) }}</td></tr>
                  }
                </table>
              } @else if (playModel()) {
                <p class="muted" data-testid="candle-signature">load the model to see its signature
                  <button (click)="loadAndPick()" [disabled]="!!store.busy()">Load</button></p>
              }
            </section>
            <section class="panel">
              <label class="field">request (Open Inference Protocol v2, JSON)
                <textarea rows="10" class="mono" [ngModel]="request()" (ngModelChange)="request.set($event)" data-testid="candle-request"
                          placeholder='{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [0, 0, 0]}]}'></textarea></label>
              <button class="primary" (click)="store.infer(playModel(), request())"
                      [disabled]="!playModel() || !request().trim() || !!store.busy()" data-testid="candle-send">Send</button>
            </section>
          </div>
          @if (store.reply(); as r) {
            <section class="panel">
              <h2>Outputs</h2>
              <table data-testid="candle-outputs">
                <tr><th>name</th><th>datatype</th><th>shape</th><th>values</th></tr>
                @for (o of r.reply.outputs; track o.name) {
                  <tr [attr.data-output]="o.name"><td class="mono">{{ o.name }}</td><td>{{ o.datatype }}</td>
                      <td class="mono">{{ shape(o.shape) }}</td><td class="mono">{{ summary(o) }}</td></tr>
                }
              </table>
              <p class="muted" data-testid="candle-timing">{{ timing(r.reply, r.roundTripMs) }}</p>
            </section>
          }
        }
        @case ('Quantize') {
          <section class="panel">
            <h2>Quantize to int8</h2>
            <p class="muted">Writes a new catalog model whose weights are int8, then compares its outputs with the original's
              on generated inputs. Takes seconds to a minute.</p>
            <div class="row">
              <select [(ngModel)]="quantizeModel" data-testid="candle-quantize-model">
                <option value="">choose a model</option>
                @for (m of store.loadable(); track m.id) { <option [value]="m.name">{{ m.name }}</option> }
              </select>
              <input [(ngModel)]="quantizeName" placeholder="new name (default: name-int8)" data-testid="candle-quantize-name">
              <button class="primary" (click)="store.quantize(quantizeModel, quantizeName)" [disabled]="!quantizeModel || !!store.busy()"
                      data-testid="candle-quantize">Quantize</button>
            </div>
            @if (report().length) {
              <table data-testid="candle-report">
                @for (line of report(); track line[0]) { <tr><th>{{ line[0] }}</th><td>{{ line[1] }}</td></tr> }
              </table>
            }
          </section>
        }
      }
    }
  `,
  styles: `
    select { max-width: 100%; }
    textarea { resize: vertical; }
    /* the signature and the request side by side, each wide enough for its shapes and JSON */
    .playground { grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); }
    [data-testid="candle-report"] th { width: 180px; }
  `,
})
export class CandlePage implements OnInit, OnDestroy {
  protected readonly store = inject(CandleStore);
  private readonly plugins = inject(PluginsStore);
  protected readonly tab = signal('Models');
  protected readonly state = computed(() => this.plugins.byId().get('candle')?.status.state ?? 'unknown');
  protected readonly keepAlives = [
    { seconds: 0, label: 'after the default (5 min)' }, { seconds: 60, label: 'after 1 min' },
    { seconds: 1800, label: 'after 30 min' }, { seconds: -1, label: 'never (until unloaded)' },
  ];
  protected loadModel = '';
  protected keepAlive = 0;
  protected readonly playModel = signal('');
  protected readonly request = signal('');
  protected readonly signature = computed(() => this.playModel() ? this.store.signature(this.playModel()) : null);
  protected quantizeModel = '';
  protected quantizeName = '';
  protected readonly report = computed(() => { const r = this.store.report(); return r ? reportLines(r) : []; });
  /** The clock the relative times count to, ticking each second. */
  protected readonly now = signal(Date.now());
  private clock: ReturnType<typeof setInterval> | null = null;

  protected readonly ago = agoText;
  protected readonly expiry = expiryText;
  protected readonly memory = memoryText;
  protected readonly datatype = datatypeOf;
  protected readonly shape = shapeText;
  protected readonly summary = summarize;
  protected readonly timing = timingText;

  constructor() {
    // the loaded list follows candle: read once it runs, forgotten when it stops (its memory is gone)
    effect(() => {
      const running = this.state() === 'RUNNING';
      untracked(() => {
        if (running) {
          void this.store.refresh();
        } else {
          this.store.clearLoaded();
        }
      });
    });
  }

  ngOnInit(): void {
    this.plugins.watch();
    void this.store.loadCatalog();
    let ticks = 0;
    this.clock = setInterval(() => {
      this.now.set(Date.now());
      if (++ticks % REFRESH_EVERY === 0 && this.state() === 'RUNNING') {
        void this.store.refresh();
      }
    }, 1000);
  }

  ngOnDestroy(): void {
    if (this.clock) {
      clearInterval(this.clock);
    }
  }

  /** Picks a playground model and prefills the request from its signature (if known). */
  protected pick(model: string): void {
    this.playModel.set(model);
    const signature = model ? this.store.signature(model) : null;
    this.request.set(signature ? requestTemplate(signature.inputs) : '');
  }

  protected async loadAndPick(): Promise<void> {
    const model = this.playModel();
    await this.store.load(model, 0);
    if (this.playModel() === model && !this.request().trim()) {
      this.pick(model);
    }
  }
}
