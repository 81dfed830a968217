import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Face } from '../core/types';
import { PluginsStore } from '../plugins/plugins.store';
import { FacesPage } from './faces-page';
import { FacesStore } from './faces.store';

const face = (x: number): Face => ({
  box: { x, y: 40, width: 120, height: 150 }, score: 0.931,
  landmarks: [1, 2, 3, 4, 5, 6].map(i => ({ x: x + i * 10, y: 80 })),
});

/** The page as a person sees it: the overlay is real SVG in the image's pixels, one group per face. */
describe('FacesPage', () => {
  let http: HttpTestingController;

  beforeEach(() => {
    // jsdom has no object URLs
    URL.createObjectURL = () => 'blob:photo';
    URL.revokeObjectURL = () => undefined;
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([]),
        // no socket in a unit test: a plugin list that says rustyface runs
        { provide: PluginsStore, useValue: { watch: () => undefined, byId: signal(new Map([['rustyface', { status: { state: 'RUNNING' } }]])) } }],
    });
    http = TestBed.inject(HttpTestingController);
  });

  it('draws each face as a box with landmarks over the photo, and labels matches after recognition', async () => {
    const fixture = TestBed.createComponent(FacesPage);
    const el = fixture.nativeElement as HTMLElement;
    // lets the store's awaits finish, then the page render what they set
    const settled = async () => {
      await new Promise(resolve => setTimeout(resolve));
      await fixture.whenStable();
    };
    await settled();
    http.expectOne('/api/face/subjects').flush({ subjects: [{ name: 'alice', face_count: 1, created: '2026-12-03T10:00:00Z' }] });
    await settled();
    expect(el.querySelector('[data-testid="faces-state"]')?.textContent).toContain('RUNNING');
    expect(el.querySelector('[data-testid="subjects-table"] tr[data-subject="alice"]')?.textContent).toContain('1');

    const input = el.querySelector('[data-testid="face-file"]') as HTMLInputElement;
    const file = new File([new Uint8Array([1])], 'two.jpg', { type: 'image/jpeg' });
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    input.dispatchEvent(new Event('change'));
    const detect = http.expectOne(r => r.url === '/api/face/detect');
    expect(detect.request.params.get('detector')).toBe('auto');
    detect.flush({ image: { width: 800, height: 600 }, detector: 'auto', faces: [face(10), face(400)], timings: { detect: 9 } });
    await settled();

    const svg = el.querySelector('[data-testid="face-overlay"]')!;
    expect(svg.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect(svg.getAttribute('viewBox')).toBe('0 0 800 600');
    const boxes = el.querySelectorAll('[data-testid="face-box"]');
    expect(boxes.length).toBe(2);
    const rect = boxes[1].querySelector('rect')!;
    expect(rect.namespaceURI).toBe('http://www.w3.org/2000/svg');
    expect([rect.getAttribute('x'), rect.getAttribute('width')]).toEqual(['400', '120']);
    expect(boxes[0].querySelectorAll('circle').length).toBe(6);
    expect(boxes[0].textContent).toContain('0.93');
    expect(el.querySelectorAll('[data-testid="face-match"]').length).toBe(0);
    expect(el.querySelectorAll('[data-testid="faces-table"] tr[data-face]').length).toBe(2);
    expect(el.querySelector('[data-testid="face-timings"]')?.textContent).toContain('detect 9.0 ms');

    (el.querySelector('[data-testid="face-recognize"]') as HTMLButtonElement).click();
    http.expectOne(r => r.url === '/api/face/recognize').flush({
      image: { width: 800, height: 600 }, threshold: 0.45,
      faces: [{ face: face(10), matches: [{ subject: 'alice', similarity: 0.9 }] }, { face: face(400), matches: [] }],
    });
    await settled();
    const labels = [...el.querySelectorAll('[data-testid="face-match"]')].map(t => t.textContent?.trim());
    expect(labels).toEqual(['alice 0.90', 'unknown']);

    // enrol the second face under a typed name: its box goes along
    const row = el.querySelector('[data-testid="faces-table"] tr[data-face="1"]')!;
    const name = row.querySelector('[data-testid="enrol-name"]') as HTMLInputElement;
    name.value = 'bob';
    name.dispatchEvent(new Event('input'));
    await settled();
    (row.querySelector('[data-testid="enrol"]') as HTMLButtonElement).click();
    const enrol = http.expectOne(r => r.url === '/api/face/subjects/bob/faces');
    expect(enrol.request.params.get('box_x')).toBe('400');
    expect(TestBed.inject(FacesStore).photo()).toBe(file);
    http.verify({ ignoreCancelled: true });
  });
});
