import { Component, provideZonelessChangeDetection, signal, viewChild } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { AutoScroll } from './auto-scroll.directive';

@Component({
  imports: [AutoScroll],
  template: `<div style="height: 100px; overflow: auto" [bkgAutoScroll]="count()" (following)="events.push($event)"></div>`,
})
class Host {
  readonly count = signal(0);
  readonly events: boolean[] = [];
  readonly auto = viewChild.required(AutoScroll);
}

describe('AutoScroll', () => {
  let fixture: ComponentFixture<Host>;
  let host: Host;
  let box: HTMLElement;
  let scrollHeight: number;

  const settle = async () => {
    fixture.detectChanges();
    await fixture.whenStable();
    await Promise.resolve();
  };

  beforeEach(async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    fixture = TestBed.createComponent(Host);
    host = fixture.componentInstance;
    box = fixture.nativeElement.querySelector('div');
    scrollHeight = 1000;
    Object.defineProperty(box, 'scrollHeight', { configurable: true, get: () => scrollHeight });
    Object.defineProperty(box, 'clientHeight', { configurable: true, get: () => 100 });
    await settle();
  });

  it('scrolls to the bottom when content changes while following', async () => {
    expect(box.scrollTop).toBe(1000);
    scrollHeight = 1500;
    host.count.set(1);
    await settle();
    expect(box.scrollTop).toBe(1500);
  });

  it('stops following after the user scrolls up, and resume() returns to the bottom', async () => {
    box.scrollTop = 200;
    box.dispatchEvent(new Event('scroll'));
    expect(host.events).toEqual([false]);

    scrollHeight = 1500;
    host.count.set(1);
    await settle();
    expect(box.scrollTop).toBe(200);

    host.auto().resume();
    expect(box.scrollTop).toBe(1500);
    expect(host.events).toEqual([false, true]);
  });

  it('resumes following when the user scrolls back near the bottom', async () => {
    box.scrollTop = 200;
    box.dispatchEvent(new Event('scroll'));
    box.scrollTop = 890; // 1000 - 890 - 100 = 10 px from the bottom, within the slack
    box.dispatchEvent(new Event('scroll'));
    expect(host.events).toEqual([false, true]);
    scrollHeight = 1200;
    host.count.set(2);
    await settle();
    expect(box.scrollTop).toBe(1200);
  });
});
