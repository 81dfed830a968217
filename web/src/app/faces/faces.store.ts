import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { AuthStore } from '../core/auth.store';
import { Problem, attempt } from '../core/problem';
import {
  DetectReply, EnrolReply, Face, FaceBox, FaceMatch, ImageSize, RecognizeReply, Subject,
} from '../core/types';

const BASE = '/api/face';

/** The six landmarks in the order the API sends them (the subject's own right and left). */
export const LANDMARKS = ['right eye', 'left eye', 'nose tip', 'mouth', 'right ear', 'left ear'];

/** How the photo is searched for faces; unset fields are left out so the service's defaults apply. */
export interface DetectOptions { detector?: 'auto' | 'front' | 'back'; minScore?: number | null; limit?: number | null; }

/** A face on show, with its matches once recognition has run on the photo (null before). */
export interface FaceRow { face: Face; matches: FaceMatch[] | null; }

type ParamValue = string | number | boolean | null | undefined;

/** Query parameters from options; null, undefined and '' are left out (the service then uses its default). */
export function queryParams(options: Record<string, ParamValue>): HttpParams {
  let params = new HttpParams();
  for (const [key, value] of Object.entries(options)) {
    if (value !== null && value !== undefined && value !== '') {
      params = params.set(key, String(value));
    }
  }
  return params;
}

/** The API's option names for {@link DetectOptions}; status=true always, so the page can show per-stage timings. */
export function detectParams(options: DetectOptions): Record<string, ParamValue> {
  return { status: true, detector: options.detector, det_prob_threshold: options.minScore, limit: options.limit };
}

/** A face's box as the query parameters enrolment takes (box_x, box_y, box_width, box_height). */
export function boxParams(box: FaceBox): Record<string, number> {
  return { box_x: box.x, box_y: box.y, box_width: box.width, box_height: box.height };
}

/** The image as multipart/form-data in the field the API reads ("file"). */
export function imageForm(file: Blob): FormData {
  const form = new FormData();
  form.append('file', file);
  return form;
}

/** The best match as "alice 0.81", or "unknown" when no subject is close enough. */
export function matchLabel(matches: FaceMatch[]): string {
  const best = matches.reduce<FaceMatch | null>((a, m) => (a === null || m.similarity > a.similarity ? m : a), null);
  return best ? `${best.subject} ${best.similarity.toFixed(2)}` : 'unknown';
}

/** Per-stage timings as "decode 2.1 ms · detect 15.0 ms" (the values may come as numbers or numeric strings). */
export function timingText(timings: Record<string, number | string> | null | undefined): string {
  return Object.entries(timings ?? {}).map(([stage, ms]) => `${stage} ${Number(ms).toFixed(1)} ms`).join(' · ');
}

/**
 * The overlay's size unit in image pixels (1 % of the longer side): the SVG is drawn in the image's own
 * pixels (viewBox = its size), so text and dots sized by this stay in proportion at any display size.
 */
export function overlayUnit(image: ImageSize): number {
  return Math.max(1, Math.max(image.width, image.height) / 100);
}

/** Where a box's score label goes: just above the box, or inside its top edge when the box touches the top. */
export function labelAt(box: FaceBox, unit: number): { x: number; y: number } {
  const size = fontSize(unit);
  return { x: box.x, y: box.y >= size + unit ? box.y - unit * 0.6 : box.y + size };
}

/** Where a box's match label goes: just below the box, or inside its bottom edge at the image's foot. */
export function matchLabelAt(box: FaceBox, unit: number, image: ImageSize): { x: number; y: number } {
  const size = fontSize(unit);
  const bottom = box.y + box.height;
  return { x: box.x, y: bottom + size + unit <= image.height ? bottom + size : bottom - unit * 0.6 };
}

export function faceCount(n: number): string {
  return n === 1 ? '1 face' : `${n} faces`;
}

export function fontSize(unit: number): number {
  return unit * 3.2;
}

/** The Faces page's state: the photo, what detection and recognition found on it, and the enrolled subjects. */
@Injectable({ providedIn: 'root' })
export class FacesStore {
  private readonly http = inject(HttpClient);
  private readonly pending = signal(0);

  readonly subjects = signal<Subject[]>([]);
  /** The photo being looked at; results belong to it and are dropped when another is chosen. */
  readonly photo = signal<File | null>(null);
  readonly detected = signal<DetectReply | null>(null);
  readonly recognized = signal<RecognizeReply | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly message = signal<string | null>(null);
  /** A counter, not a flag: a subjects reload ending must not clear busy while a detection still runs. */
  readonly busy = computed(() => this.pending() > 0);

  /** Recognition's faces once it has run on this photo (it detects again, with matches), else detection's. */
  readonly faces = computed<FaceRow[]>(() => {
    const recognized = this.recognized();
    if (recognized) {
      return recognized.faces.map(f => ({ face: f.face, matches: f.matches ?? [] }));
    }
    return (this.detected()?.faces ?? []).map(face => ({ face, matches: null }));
  });
  readonly image = computed(() => this.recognized()?.image ?? this.detected()?.image ?? null);
  readonly timings = computed(() => timingText(this.recognized()?.timings ?? this.detected()?.timings));

  constructor() {
    inject(AuthStore).onSignOut(() => this.forget());
  }

  /** A new photo: the last one's results go, so boxes are never drawn over the wrong picture. */
  choose(file: File): void {
    this.photo.set(file);
    this.detected.set(null);
    this.recognized.set(null);
    this.message.set(null);
  }

  async detect(options: DetectOptions): Promise<void> {
    const file = this.photo();
    if (!file) {
      return;
    }
    this.recognized.set(null); // its faces came from the old options
    await this.run(async () => {
      const reply = await firstValueFrom(this.http.post<DetectReply>(`${BASE}/detect`, imageForm(file),
        { params: queryParams(detectParams(options)) }));
      if (this.photo() === file) { // another photo chosen meanwhile keeps its own results
        this.detected.set(reply);
      }
    });
  }

  /** Best match per face only (prediction_count=1): the page labels each box with one subject. */
  async recognize(options: DetectOptions): Promise<void> {
    const file = this.photo();
    if (!file) {
      return;
    }
    await this.run(async () => {
      const params = queryParams({ ...detectParams(options), prediction_count: 1 });
      const reply = await firstValueFrom(this.http.post<RecognizeReply>(`${BASE}/recognize`, imageForm(file), { params }));
      if (this.photo() === file) {
        this.recognized.set(reply);
      }
    });
  }

  /** Stores one face of the photo under a subject: the whole photo goes, with the chosen face's box. */
  async enrol(subject: string, box: FaceBox): Promise<boolean> {
    const file = this.photo();
    const name = subject.trim();
    if (!file || !name) {
      return false;
    }
    const enrolled = await this.run(async () => {
      const reply = await firstValueFrom(this.http.post<EnrolReply>(`${this.subjectUrl(name)}/faces`, imageForm(file),
        { params: queryParams(boxParams(box)) }));
      this.message.set(`face enrolled as ${reply.subject.name} (${faceCount(reply.subject.face_count)} now)`);
    });
    if (enrolled) {
      await this.loadSubjects();
    }
    return enrolled;
  }

  async loadSubjects(): Promise<void> {
    await this.run(async () => {
      const reply = await firstValueFrom(this.http.get<{ subjects?: Subject[] }>(`${BASE}/subjects`));
      this.subjects.set(reply.subjects ?? []);
    });
  }

  async createSubject(name: string): Promise<boolean> {
    const created = await this.run(async () => {
      await firstValueFrom(this.http.post<Subject>(`${BASE}/subjects`, { name: name.trim() }));
      this.message.set(`subject ${name.trim()} created`);
    });
    if (created) {
      await this.loadSubjects();
    }
    return created;
  }

  async renameSubject(from: string, to: string): Promise<boolean> {
    const renamed = await this.run(async () => {
      await firstValueFrom(this.http.put<Subject>(this.subjectUrl(from), { name: to.trim() }));
      this.message.set(`subject ${from} renamed to ${to.trim()}`);
    });
    if (renamed) {
      await this.loadSubjects();
    }
    return renamed;
  }

  async deleteSubject(name: string): Promise<void> {
    const deleted = await this.run(async () => {
      const reply = await firstValueFrom(this.http.delete<{ deleted_faces: number }>(this.subjectUrl(name)));
      this.message.set(`subject ${name} deleted (${faceCount(reply.deleted_faces)})`);
    });
    if (deleted) {
      await this.loadSubjects();
    }
  }

  private subjectUrl(name: string): string {
    return `${BASE}/subjects/${encodeURIComponent(name)}`;
  }

  private async run(action: () => Promise<void>): Promise<boolean> {
    this.pending.update(n => n + 1);
    try {
      return await attempt(this.problem, action);
    } finally {
      this.pending.update(n => n - 1);
    }
  }

  /** The next user must not see this one's photo, results or subjects. */
  private forget(): void {
    this.photo.set(null);
    this.detected.set(null);
    this.recognized.set(null);
    this.subjects.set([]);
    this.problem.set(null);
    this.message.set(null);
  }
}
