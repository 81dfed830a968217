import { Component, OnInit, computed, effect, inject, signal } from '@angular/core';
import { DatePipe } from '@angular/common';
import { FormsModule } from '@angular/forms';
import { Face } from '../core/types';
import { PluginDashboard } from '../plugins/plugin-dashboard';
import { PluginsStore } from '../plugins/plugins.store';
import { ConfirmButton } from '../shared/confirm-button';
import { ErrorAlert } from '../shared/error-alert';
import { Spinner } from '../shared/spinner';
import { StatusBadge } from '../shared/status-badge';
import { Tabs } from '../shared/tabs';
import { FacesStore, LANDMARKS, faceCount, fontSize, labelAt, matchLabel, matchLabelAt, overlayUnit } from './faces.store';

/** The rustyface plugin: detect faces on a photo, enrol them under subjects, recognise people; and its dashboard. */
@Component({
  selector: 'bkg-faces-page',
  imports: [FormsModule, DatePipe, ConfirmButton, ErrorAlert, Spinner, StatusBadge, Tabs, PluginDashboard],
  template: `
    <bkg-tabs [tabs]="['Faces', 'Dashboard']" [(active)]="tab" />
    @if (tab() === 'Dashboard') {
      <bkg-plugin-dashboard pluginId="rustyface" />
    } @else {
      <div class="row"><h1>Faces</h1>
        <bkg-status-badge [state]="state()" data-testid="faces-state" />
        @if (state() !== 'RUNNING') { <span class="muted">rustyface is not running: start it on the Dashboard tab.</span> }
        @if (store.busy()) { <bkg-spinner label="working…" /> }
      </div>
      <bkg-error-alert [problem]="store.problem()" (dismissed)="store.problem.set(null)" />
      @if (store.message(); as m) { <p class="muted" data-testid="faces-message">{{ m }}</p> }
      <div class="layout">
        <section class="panel">
          <div class="row controls">
            <label class="drop" [class.over]="dragOver()" (dragover)="$event.preventDefault(); dragOver.set(true)"
                   (dragleave)="dragOver.set(false)" (drop)="dropped($event)">
              drop a photo here or <input type="file" accept="image/*" data-testid="face-file" (change)="picked($event)">
            </label>
            <label>detector
              <select [ngModel]="detector" (ngModelChange)="detector = $event; detect()" data-testid="face-detector">
                <option value="auto">auto (both: close-ups and faces further away)</option>
                <option value="back">back (faces further away)</option>
                <option value="front">front (close-ups)</option>
              </select></label>
            <label>min score <input type="number" min="0" max="1" step="0.05" class="k" placeholder="default"
                   [(ngModel)]="minScore" (change)="detect()" data-testid="face-min-score"></label>
            <button (click)="detect()" [disabled]="!store.photo() || store.busy()" data-testid="face-detect">Detect</button>
            <button class="primary" (click)="recognize()" [disabled]="!store.photo() || store.busy()"
                    data-testid="face-recognize">Recognize</button>
          </div>
          @if (photoUrl(); as url) {
            <div class="photo">
              <img [src]="url" alt="the photo looked at">
              @if (store.image(); as im) {
                <!-- drawn in the image's own pixels: the browser scales it with the image -->
                <svg [attr.viewBox]="'0 0 ' + im.width + ' ' + im.height" preserveAspectRatio="none" data-testid="face-overlay">
                  @for (row of store.faces(); track $index) {
                    <g data-testid="face-box" [attr.data-face]="$index" [class.known]="row.matches?.length">
                      <rect class="box" [attr.x]="row.face.box.x" [attr.y]="row.face.box.y"
                            [attr.width]="row.face.box.width" [attr.height]="row.face.box.height" />
                      @for (p of row.face.landmarks; track $index) {
                        <circle [attr.class]="'mark mark' + $index" [attr.cx]="p.x" [attr.cy]="p.y" [attr.r]="unit() * 0.7">
                          <title>{{ landmarks[$index] }}</title></circle>
                      }
                      <text [attr.x]="labelAt(row.face.box, unit()).x" [attr.y]="labelAt(row.face.box, unit()).y"
                            [attr.font-size]="fontSize(unit())">{{ row.face.score.toFixed(2) }}</text>
                      @if (row.matches; as matches) {
                        <text data-testid="face-match" [attr.x]="matchLabelAt(row.face.box, unit(), im).x"
                              [attr.y]="matchLabelAt(row.face.box, unit(), im).y"
                              [attr.font-size]="fontSize(unit())">{{ matchLabel(matches) }}</text>
                      }
                    </g>
                  }
                </svg>
              }
            </div>
          } @else {
            <p class="muted">No photo yet: drop one on the box above or choose a file.</p>
          }
          @if (store.detected(); as d) {
            <p class="muted" data-testid="face-timings">
              {{ faceCount(store.faces().length) }}, detector {{ d.detector }}, image {{ d.image.width }}×{{ d.image.height }}
              @if (store.recognized(); as r) { · match threshold {{ r.threshold }} }
              @if (store.timings(); as t) { · {{ t }} }
            </p>
          }
          <table data-testid="faces-table">
            <tr><th>#</th><th>score</th><th>box (x, y, width × height)</th><th>match</th><th>enrol as</th></tr>
            @for (row of store.faces(); track $index; let i = $index) {
              <tr [attr.data-face]="i">
                <td>{{ i + 1 }}</td><td>{{ row.face.score.toFixed(3) }}</td>
                <td class="mono">{{ row.face.box.x.toFixed(0) }}, {{ row.face.box.y.toFixed(0) }},
                  {{ row.face.box.width.toFixed(0) }} × {{ row.face.box.height.toFixed(0) }}</td>
                <td>{{ row.matches ? matchLabel(row.matches) : '–' }}</td>
                <td><div class="row">
                  <input class="name" [(ngModel)]="enrolNames[i]" list="face-subjects" placeholder="subject"
                         data-testid="enrol-name" (keyup.enter)="enrol(i, row.face)">
                  <button (click)="enrol(i, row.face)" [disabled]="!enrolNames[i]?.trim() || store.busy()"
                          data-testid="enrol">Enrol</button>
                </div></td>
              </tr>
            } @empty {
              <tr><td colspan="5" class="muted">{{ store.detected() || store.recognized() ? 'no faces found' : 'nothing detected yet' }}</td></tr>
            }
          </table>
          <datalist id="face-subjects">@for (s of store.subjects(); track s.name) { <option [value]="s.name"></option> }</datalist>
        </section>
        <section class="panel">
          <h2>Subjects</h2>
          <form class="row" (ngSubmit)="createSubject()">
            <input name="subject" [(ngModel)]="newSubject" placeholder="a person's name" data-testid="subject-name">
            <button class="primary" type="submit" [disabled]="!newSubject.trim()" data-testid="subject-create">Create</button>
          </form>
          <table data-testid="subjects-table">
            <tr><th>name</th><th>faces</th><th>created</th><th></th></tr>
            @for (s of store.subjects(); track s.name) {
              <tr [attr.data-subject]="s.name">
                @if (renaming() === s.name) {
                  <td><input class="name" [(ngModel)]="renameTo" data-testid="subject-rename-to" (keyup.enter)="rename(s.name)"></td>
                } @else {
                  <td>{{ s.name }}</td>
                }
                <td data-testid="subject-face-count">{{ s.face_count }}</td>
                <td>{{ s.created | date: 'short' }}</td>
                <td><div class="row">
                  @if (renaming() === s.name) {
                    <button class="primary" (click)="rename(s.name)" [disabled]="!renameTo.trim()">Save</button>
                    <button (click)="renaming.set(null)">Cancel</button>
                  } @else {
                    <button (click)="renaming.set(s.name); renameTo = s.name">Rename</button>
                    <bkg-confirm-button label="Delete" kind="danger" [question]="'Delete ' + s.name + ' and its ' + s.face_count + ' faces?'"
                                        (confirmed)="store.deleteSubject(s.name)" />
                  }
                </div></td>
              </tr>
            } @empty { <tr><td colspan="4" class="muted">no subjects yet</td></tr> }
          </table>
        </section>
      </div>
    }
  `,
  styles: `
    .layout { display: grid; gap: 14px; grid-template-columns: minmax(0, 2fr) minmax(300px, 1fr); align-items: start; }
    @media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .controls { margin-bottom: 10px; }
    .drop { border: 2px dashed var(--line); border-radius: 8px; padding: 10px 12px; color: var(--muted); }
    .drop.over { border-color: var(--accent); background: rgba(47,91,234,.06); }
    .k { width: 80px; } .name { width: 140px; }
    .photo { position: relative; display: inline-block; max-width: 100%; margin-bottom: 10px; }
    .photo img { display: block; max-width: 100%; max-height: 70vh; }
    .photo svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; pointer-events: none; }
    .box { fill: none; stroke: #f5b400; stroke-width: 2; vector-effect: non-scaling-stroke; }
    .known .box { stroke: #16c172; }
    text { fill: #fff; stroke: #000; stroke-width: 3px; paint-order: stroke; vector-effect: non-scaling-stroke;
           font-family: system-ui, sans-serif; font-weight: 600; }
    .mark { stroke: #000; stroke-width: 1; vector-effect: non-scaling-stroke; }
    .mark0, .mark1 { fill: #2f9bff; } .mark2 { fill: #ff5a5a; } .mark3 { fill: #ff9f1a; } .mark4, .mark5 { fill: #c77dff; }
  `,
})
export class FacesPage implements OnInit {
  protected readonly store = inject(FacesStore);
  private readonly plugins = inject(PluginsStore);
  protected readonly tab = signal('Faces');
  protected readonly state = computed(() => this.plugins.byId().get('rustyface')?.status.state ?? 'unknown');
  protected readonly dragOver = signal(false);
  /** An object URL for the chosen photo, released when the photo changes or the page goes. */
  protected readonly photoUrl = signal<string | null>(null);
  protected readonly unit = computed(() => overlayUnit(this.store.image() ?? { width: 100, height: 100 }));
  protected readonly renaming = signal<string | null>(null);
  protected readonly landmarks = LANDMARKS;
  protected readonly labelAt = labelAt;
  protected readonly matchLabelAt = matchLabelAt;
  protected readonly matchLabel = matchLabel;
  protected readonly fontSize = fontSize;
  protected readonly faceCount = faceCount;
  protected detector: 'auto' | 'front' | 'back' = 'auto';
  protected minScore: number | null = null;
  /** The subject typed for each face row, by row. */
  protected enrolNames: Record<number, string> = {};
  protected newSubject = '';
  protected renameTo = '';

  constructor() {
    effect(onCleanup => {
      const file = this.store.photo();
      if (!file) {
        this.photoUrl.set(null);
        return;
      }
      const url = URL.createObjectURL(file);
      this.photoUrl.set(url);
      onCleanup(() => URL.revokeObjectURL(url));
    });
  }

  ngOnInit(): void {
    this.plugins.watch();
    void this.store.loadSubjects();
  }

  protected picked(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // choosing the same file again still fires change
    if (file) {
      this.use(file);
    }
  }

  protected dropped(event: DragEvent): void {
    event.preventDefault(); // else the browser opens the file itself
    this.dragOver.set(false);
    const file = event.dataTransfer?.files?.[0];
    if (file) {
      this.use(file);
    }
  }

  protected detect(): void {
    void this.store.detect(this.options());
  }

  protected recognize(): void {
    void this.store.recognize(this.options());
  }

  protected async enrol(row: number, face: Face): Promise<void> {
    const name = this.enrolNames[row]?.trim();
    if (name && !this.store.busy()) {
      await this.store.enrol(name, face.box);
    }
  }

  protected async createSubject(): Promise<void> {
    if (await this.store.createSubject(this.newSubject)) {
      this.newSubject = '';
    }
  }

  protected async rename(from: string): Promise<void> {
    if (this.renameTo.trim() && await this.store.renameSubject(from, this.renameTo)) {
      this.renaming.set(null);
    }
  }

  private use(file: File): void {
    this.store.choose(file);
    this.enrolNames = {};
    this.detect();
  }

  private options() {
    // an emptied number input gives null or '': the service's default threshold applies then
    const minScore = typeof this.minScore === 'number' ? this.minScore : null;
    return { detector: this.detector, minScore };
  }
}
