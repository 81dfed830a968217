import { Component, input } from '@angular/core';

@Component({
  selector: 'bkg-spinner',
  template: `<span class="spin" aria-hidden="true"></span> <span class="muted">{{ label() }}</span>`,
  styles: `
    :host { display: inline-flex; align-items: center; gap: 6px; }
    .spin { width: 14px; height: 14px; border: 2px solid var(--line); border-top-color: var(--accent);
            border-radius: 50%; animation: turn .8s linear infinite; }
    @keyframes turn { to { transform: rotate(360deg); } }
  `,
})
export class Spinner {
  readonly label = input('loading…');
}
