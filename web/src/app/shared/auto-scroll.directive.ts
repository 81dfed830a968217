import { Directive, ElementRef, inject, input, output, effect } from '@angular/core';

/** How close to the bottom (px) still counts as "at the bottom". */
const SLACK = 24;

/**
 * Keeps a scrolling box pinned to its newest content: each change of {@link bkgAutoScroll} scrolls
 * to the bottom, unless the user has scrolled up to read; scrolling back down resumes following.
 * {@link following} tells the page, so it can show "paused".
 */
@Directive({
  selector: '[bkgAutoScroll]',
  host: { '(scroll)': 'onScroll()' },
})
export class AutoScroll {
  /** Anything that changes when content is added (e.g. the number of lines). */
  readonly bkgAutoScroll = input<unknown>();
  readonly following = output<boolean>();

  private readonly element = inject<ElementRef<HTMLElement>>(ElementRef).nativeElement;
  private follow = true;

  constructor() {
    effect(() => {
      this.bkgAutoScroll();
      if (this.follow) {
        queueMicrotask(() => this.scrollToBottom());
      }
    });
  }

  onScroll(): void {
    const e = this.element;
    const atBottom = e.scrollHeight - e.scrollTop - e.clientHeight <= SLACK;
    if (atBottom !== this.follow) {
      this.follow = atBottom;
      this.following.emit(atBottom);
    }
  }

  /** Jump to the newest content and follow it again. */
  resume(): void {
    this.follow = true;
    this.following.emit(true);
    this.scrollToBottom();
  }

  private scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }
}
