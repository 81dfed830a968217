import { Component, input } from '@angular/core';

/** A page whose API the gateway does not serve yet: it says so plainly instead of showing made-up data. */
@Component({
  selector: 'bkg-coming-page',
  template: `
    <section class="panel" data-testid="not-yet">
      <h1>{{ title() }}</h1>
      <p>{{ what() }} is not served by the gateway yet: it comes with its own issue.</p>
      <p class="muted">This page, its route and its place in the layout are ready for it.</p>
    </section>
  `,
})
export class ComingPage {
  readonly title = input('Not yet available');
  readonly what = input('This feature');
}
