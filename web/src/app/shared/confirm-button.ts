import { Component, input, output, signal } from '@angular/core';

/** A button that asks once more before a destructive action ("Stop brainml?" Confirm / Cancel). */
@Component({
  selector: 'bkg-confirm-button',
  template: `
    @if (asking()) {
      <span class="ask" role="alertdialog">
        {{ question() }}
        <button class="danger" data-testid="confirm" (click)="asking.set(false); confirmed.emit()">Confirm</button>
        <button (click)="asking.set(false)">Cancel</button>
      </span>
    } @else {
      <button [class]="kind()" [disabled]="disabled()" (click)="asking.set(true)">{{ label() }}</button>
    }
  `,
  styles: `.ask { display: inline-flex; gap: 6px; align-items: center; background: #fff1d6; padding: 2px 6px; border-radius: 6px; }`,
})
export class ConfirmButton {
  readonly label = input.required<string>();
  readonly question = input.required<string>();
  readonly kind = input('');
  readonly disabled = input(false);
  readonly confirmed = output<void>();
  protected readonly asking = signal(false);
}
