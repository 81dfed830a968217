import { Component, input, output } from '@angular/core';
import { Problem } from '../core/problem';

/** An API failure as its problem body says it: title, detail, and any field errors. */
@Component({
  selector: 'bkg-error-alert',
  template: `
    @if (problem(); as p) {
      <div class="alert" role="alert" data-testid="error-alert">
        <strong>{{ p.title }}</strong>@if (p.status) { <span class="muted"> ({{ p.status }})</span> }
        @if (p.detail) { <div>{{ p.detail }}</div> }
        @for (e of p.errors ?? []; track e.field) { <div class="mono">{{ e.field }}: {{ e.message }}</div> }
        <button class="close" (click)="dismissed.emit()" aria-label="dismiss">×</button>
      </div>
    }
  `,
  styles: `
    .alert { position: relative; background: #fde2e0; color: var(--bad); border: 1px solid #f5b5ae; border-radius: 6px;
             padding: 8px 30px 8px 10px; margin: 8px 0; }
    .close { position: absolute; right: 4px; top: 4px; border: 0; background: transparent; color: inherit; }
  `,
})
export class ErrorAlert {
  readonly problem = input<Problem | null>(null);
  readonly dismissed = output<void>();
}
