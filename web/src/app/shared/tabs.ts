import { Component, input, model } from '@angular/core';

/** A row of tabs; the page shows what belongs to {@link active}. */
@Component({
  selector: 'bkg-tabs',
  template: `
    <nav class="tabs" role="tablist">
      @for (tab of tabs(); track tab) {
        <button role="tab" [class.active]="tab === active()" [attr.aria-selected]="tab === active()" (click)="active.set(tab)">{{ tab }}</button>
      }
    </nav>
  `,
  styles: `
    .tabs { display: flex; gap: 4px; margin-bottom: 12px; border-bottom: 1px solid var(--line); }
    button { border: 0; border-bottom: 2px solid transparent; border-radius: 0; background: transparent; padding: 6px 12px; }
    button.active { border-bottom-color: var(--accent); color: var(--accent); font-weight: 600; }
  `,
})
export class Tabs {
  readonly tabs = input.required<string[]>();
  readonly active = model.required<string>();
}
