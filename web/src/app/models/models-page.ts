import { Component, OnDestroy, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { AuthStore } from '../core/auth.store';
import { BytesPipe } from '../shared/bytes.pipe';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { StatusBadge } from '../shared/status-badge';
import { DownloadForm, MODEL_KINDS, ModelsStore } from './models.store';

/** The catalog: download (with a live progress bar), validate, delete. */
@Component({
  selector: 'bkg-models-page',
  imports: [FormsModule, BytesPipe, ConfirmButton, ErrorAlert, StatusBadge],
  template: `
    <h1>Models</h1>
    <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
    @if (canWrite()) {
      <form class="panel" (ngSubmit)="download()" data-testid="download-form">
        <h2>Download a model</h2>
        <div class="row">
          <label class="field">name <input name="name" [(ngModel)]="form.name" required data-testid="download-name"></label>
          <label class="field">kind
            <select name="kind" [(ngModel)]="form.kind">@for (k of kinds; track k) { <option [value]="k">{{ k }}</option> }</select>
          </label>
          <label class="field grow">URL (an .onnx file) <input name="url" [(ngModel)]="form.url" required data-testid="download-url"></label>
          <label class="field grow">SHA-256 (optional) <input name="sha256" [(ngModel)]="form.sha256"></label>
        </div>
        <button class="primary" type="submit" [disabled]="starting()">Download</button>
      </form>
    }
    <section class="panel">
      <table data-testid="models-table">
        <tr><th>model</th><th>kind</th><th>status</th><th>size</th><th>source</th><th></th></tr>
        @for (m of store.models(); track m.id) {
          <tr [attr.data-model]="m.name">
            <td><b>{{ m.name }}</b><div class="muted mono">{{ m.id }}</div></td>
            <td>{{ m.kind }}</td>
            <td>
              <bkg-status-badge [state]="m.status" />
              @if (store.progress()[m.id]; as p) {
                @if (m.status === 'DOWNLOADING' || p.state === 'RUNNING' || p.state === 'QUEUED' || p.state === 'VERIFYING') {
                  <div class="progress" data-testid="download-progress">
                    <progress [value]="p.bytesDone" [max]="p.bytesTotal ?? 0" [attr.data-done]="p.bytesDone"></progress>
                    <span class="muted">{{ p.bytesDone | bytes }} / {{ p.bytesTotal | bytes }} · {{ p.rateBytesPerSecond | bytes }}/s
                      @if (p.etaMs !== null) { · {{ (p.etaMs / 1000).toFixed(0) }} s left }</span>
                  </div>
                }
                @if (p.message) { <div class="muted">{{ p.message }}</div> }
              }
              @if (m.statusMessage) { <div class="muted">{{ m.statusMessage }}</div> }
              @if (m.validation; as v) { <div class="muted">validation: {{ v.ok ? 'ok' : 'failed' }} ({{ v.durationMs }} ms) {{ v.message }}</div> }
            </td>
            <td>{{ m.totalSizeBytes | bytes }}</td>
            <td class="muted mono src">{{ m.source }}</td>
            <td class="actions">
              @if (canWrite()) {
                @if (m.status === 'DOWNLOADING' && m.jobId) { <button (click)="store.cancel(m.jobId!)">Cancel</button> }
                @else {
                  <button (click)="store.validate(m.id)" data-testid="model-validate">Validate</button>
                  <bkg-confirm-button label="Delete" kind="danger" [question]="'Delete ' + m.name + '?'" (confirmed)="store.remove(m.id)" />
                }
              }
            </td>
          </tr>
        } @empty { <tr><td colspan="6" class="muted">no models yet</td></tr> }
      </table>
    </section>
  `,
  styles: `
    .grow { flex: 1; min-width: 220px; } .grow input { width: 100%; }
    .progress { display: flex; flex-direction: column; gap: 2px; margin-top: 4px; } progress { width: 220px; }
    .src { max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .actions { white-space: nowrap; }
  `,
})
export class ModelsPage implements OnInit, OnDestroy {
  protected readonly store = inject(ModelsStore);
  private readonly auth = inject(AuthStore);
  protected readonly kinds = MODEL_KINDS;
  protected form: DownloadForm = { name: '', kind: 'generic', url: '', sha256: '' };
  protected readonly starting = signal(false);
  protected readonly canWrite = () => this.auth.can('models:write');

  ngOnInit(): void {
    void this.store.load();
  }

  ngOnDestroy(): void {
    this.store.stopFollowing();
  }

  protected async download(): Promise<void> {
    this.starting.set(true);
    if (await this.store.download(this.form)) {
      this.form = { name: '', kind: this.form.kind, url: '', sha256: '' };
    }
    this.starting.set(false);
  }
}
