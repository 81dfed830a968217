import { Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { Tabs } from '../shared/tabs';
import { BrainmlStore } from './brainml.store';

/** The brainml plugin: a playground (index a few texts, query, see scores) and its dashboard. */
@Component({
  selector: 'bkg-brainml-page',
  imports: [FormsModule, ConfirmButton, ErrorAlert, Spinner, StatusBadge, Tabs, PluginDashboard],
  template: `
    <bkg-tabs [tabs]="['Playground', 'Dashboard']" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard pluginId="brainml" />
    } @else {
      <div class="row"><h1>brainml playground</h1>
        <bkg-status-badge [state]="state()" data-testid="brainml-state" />
        @if (state() !== 'RUNNING') { <span class="muted">brainml is not running: start it on the Dashboard tab.</span> }
        @if (store.busy()) { <bkg-spinner label="working…" /> }
      </div>
      <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
      @if (store.message(); as m) { <p class="muted" data-testid="brainml-message">{{ m }}</p> }
      <div class="grid">
        <section class="panel">
          <h2>Index</h2>
          <label class="field">collection <input name="collection" [(ngModel)]="collection" list="collections" data-testid="brainml-collection"></label>
          <datalist id="collections">@for (c of store.collections(); track c.name) { <option [value]="c.name"></option> }</datalist>
          <label class="field">texts, one per line ("label | text" to give a label)
            <textarea rows="6" [(ngModel)]="texts" data-testid="brainml-texts"></textarea></label>
          <div class="row">
            <button class="primary" (click)="store.index(collection, texts)" [disabled]="!collection || !texts.trim()" data-testid="brainml-index">Index</button>
            <button (click)="store.train(collection)" [disabled]="!collection">Train</button>
            <bkg-confirm-button label="Drop collection" kind="danger" [question]="'Drop ' + collection + '?'"
                                [disabled]="!collection" (confirmed)="store.drop(collection)" />
          </div>
        </section>
        <section class="panel">
          <h2>Query</h2>
          <div class="row">
            <input class="grow" [(ngModel)]="question" placeholder="a text to look for" data-testid="brainml-query"
                   (keyup.enter)="ask()">
            <label>top <input type="number" min="1" max="100" [(ngModel)]="topK" class="k"></label>
            <button class="primary" (click)="ask()" [disabled]="!collection || !question.trim()" data-testid="brainml-ask">Query</button>
          </div>
          @if (store.reply(); as r) {
            @if (r.predictedLabel) { <p>predicted label <b>{{ r.predictedLabel }}</b> ({{ (r.labelConfidence * 100).toFixed(0) }} %)</p> }
            <table data-testid="brainml-hits">
              <tr><th>score</th><th>text</th><th>label</th></tr>
              @for (h of r.hits; track h.id) {
                <tr><td class="score"><span class="bar" [style.width.%]="barWidth(h.score)"></span><span>{{ h.score.toFixed(3) }}</span></td>
                    <td>{{ h.text }}</td><td>{{ h.label }}</td></tr>
              } @empty { <tr><td colspan="3" class="muted">no hits</td></tr> }
            </table>
            <p class="muted">{{ (+r.durationUs / 1000).toFixed(1) }} ms</p>
          }
        </section>
      </div>
      <section class="panel">
        <h2>Collections</h2>
        <table>
          <tr><th>name</th><th>documents</th><th>dimensions</th><th>embedding model</th></tr>
          @for (c of store.collections(); track c.name) {
            <tr><td><a href="" (click)="$event.preventDefault(); collection = c.name">{{ c.name }}</a></td><td>{{ c.documents }}</td>
                <td>{{ c.dimensions }}</td><td class="mono">{{ c.embeddingModel }}</td></tr>
          } @empty { <tr><td colspan="4" class="muted">no collections yet</td></tr> }
        </table>
      </section>
    }
  `,
  styles: `
    .grow { flex: 1; } .k { width: 64px; }
    .score { position: relative; width: 110px; } .score span { position: relative; }
    .bar { position: absolute; left: 0; top: 4px; bottom: 4px; background: rgba(47,91,234,.18); border-radius: 3px; }
  `,
})
export class BrainmlPage implements OnInit {
  protected readonly store = inject(BrainmlStore);
  private readonly plugins = inject(PluginsStore);
  protected readonly tab = signal('Playground');
  protected readonly state = computed(() => this.plugins.byId().get('brainml')?.status.state ?? 'unknown');
  protected collection = 'playground';
  protected texts = '';
  protected question = '';
  protected topK = 5;

  ngOnInit(): void {
    this.plugins.watch();
    void this.store.load();
  }

  protected ask(): void {
    void this.store.query(this.collection, this.question, this.topK);
  }

  protected barWidth(score: number): number {
    return Math.max(0, Math.min(100, score * 100));
  }
}
