import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { DetectReply, Face, RecognizeReply, Subject } from '../core/types';
import {
  FacesStore, boxParams, detectParams, faceCount, fontSize, imageForm, labelAt, matchLabel, matchLabelAt, overlayUnit, queryParams,
  timingText,
} from './faces.store';

const face = (x: number, score = 0.93): Face => ({
  box: { x, y: 20, width: 100, height: 100 }, score,
  landmarks: [{ x: x + 30, y: 50 }, { x: x + 70, y: 50 }, { x: x + 50, y: 70 }, { x: x + 50, y: 90 }, { x, y: 60 }, { x: x + 100, y: 60 }],
});
const detectReply = (faces: Face[]): DetectReply =>
  ({ image: { width: 640, height: 480 }, detector: 'back', faces, timings: { decode: 1.5, detect: 12 } });
const subject = (name: string, face_count = 0): Subject => ({ name, face_count, created: '2026-12-03T10:00:00Z' });
const photo = () => new File([new Uint8Array([0xff, 0xd8, 0xff])], 'me.jpg', { type: 'image/jpeg' });
/** Lets the store's awaits run on to their next request. */
const settle = () => new Promise(resolve => setTimeout(resolve));

describe('FacesStore', () => {
  let store: FacesStore;
  let http: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    store = TestBed.inject(FacesStore);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('detects: the photo as multipart field "file", options as query parameters, status=true always', async () => {
    const file = photo();
    store.choose(file);
    const done = store.detect({ detector: 'front', minScore: 0.7, limit: 3 });
    expect(store.busy()).toBe(true);
    const req = http.expectOne(r => r.url === '/api/face/detect');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toBeInstanceOf(FormData);
    expect((req.request.body as FormData).get('file')).toBeInstanceOf(File);
    expect(((req.request.body as FormData).get('file') as File).name).toBe('me.jpg');
    expect(req.request.params.get('status')).toBe('true');
    expect(req.request.params.get('detector')).toBe('front');
    expect(req.request.params.get('det_prob_threshold')).toBe('0.7');
    expect(req.request.params.get('limit')).toBe('3');
    req.flush(detectReply([face(10), face(300, 0.8)]));
    await done;

    expect(store.busy()).toBe(false);
    expect(store.faces().map(r => r.face.box.x)).toEqual([10, 300]);
    expect(store.faces().every(r => r.matches === null)).toBe(true);
    expect(store.image()).toEqual({ width: 640, height: 480 });
    expect(store.timings()).toBe('decode 1.5 ms · detect 12.0 ms');
  });

  it('leaves unset options out so the service defaults apply', async () => {
    store.choose(photo());
    const done = store.detect({ detector: 'back', minScore: null });
    const req = http.expectOne(r => r.url === '/api/face/detect');
    expect(req.request.params.keys().sort()).toEqual(['detector', 'status']);
    req.flush(detectReply([]));
    await done;
  });

  it('does nothing without a photo', async () => {
    await store.detect({});
    await store.recognize({});
    expect(await store.enrol('alice', face(0).box)).toBe(false);
    http.expectNone(() => true);
  });

  it('recognizes with prediction_count=1; its faces then carry their matches, an empty list meaning unknown', async () => {
    store.choose(photo());
    const detected = store.detect({ detector: 'back' });
    http.expectOne('/api/face/detect?status=true&detector=back').flush(detectReply([face(10), face(300)]));
    await detected;

    const done = store.recognize({ detector: 'back', minScore: 0.6 });
    const req = http.expectOne(r => r.url === '/api/face/recognize');
    expect(req.request.method).toBe('POST');
    expect((req.request.body as FormData).get('file')).toBeInstanceOf(File);
    expect(req.request.params.get('prediction_count')).toBe('1');
    expect(req.request.params.get('status')).toBe('true');
    expect(req.request.params.get('det_prob_threshold')).toBe('0.6');
    const reply: RecognizeReply = {
      image: { width: 640, height: 480 }, threshold: 0.45,
      faces: [{ face: face(11), matches: [{ subject: 'alice', similarity: 0.812 }] }, { face: face(301), matches: [] }],
    };
    req.flush(reply);
    await done;

    expect(store.faces().map(r => (r.matches ? matchLabel(r.matches) : null))).toEqual(['alice 0.81', 'unknown']);
    expect(store.faces()[0].face.box.x).toBe(11);
  });

  it('a new photo drops the last one\'s results, and a late reply for the old photo is ignored', async () => {
    store.choose(photo());
    const late = store.detect({});
    store.choose(photo());
    http.expectOne(r => r.url === '/api/face/detect').flush(detectReply([face(10)]));
    await late;
    expect(store.detected()).toBeNull();
    expect(store.faces()).toEqual([]);
  });

  it('enrols the whole photo with the chosen face\'s box as query parameters, then reloads the subjects', async () => {
    store.choose(photo());
    const done = store.enrol(' alice b ', { x: 10.5, y: 20, width: 100, height: 101.25 });
    const req = http.expectOne(r => r.url === '/api/face/subjects/alice%20b/faces');
    expect(req.request.method).toBe('POST');
    expect((req.request.body as FormData).get('file')).toBeInstanceOf(File);
    expect(req.request.params.get('box_x')).toBe('10.5');
    expect(req.request.params.get('box_y')).toBe('20');
    expect(req.request.params.get('box_width')).toBe('100');
    expect(req.request.params.get('box_height')).toBe('101.25');
    req.flush({ face_id: 'f_1', subject: subject('alice b', 1), face: face(10) }, { status: 201, statusText: 'Created' });
    await settle();
    http.expectOne('/api/face/subjects').flush({ subjects: [subject('alice b', 1)] });
    expect(await done).toBe(true);
    expect(store.subjects()).toEqual([subject('alice b', 1)]);
    expect(store.message()).toContain('alice b');
  });

  it('creates a subject with {name} and reloads the list', async () => {
    const done = store.createSubject('  bob ');
    const req = http.expectOne('/api/face/subjects');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({ name: 'bob' });
    req.flush(subject('bob'), { status: 201, statusText: 'Created' });
    await settle();
    const reload = http.expectOne('/api/face/subjects');
    expect(reload.request.method).toBe('GET');
    reload.flush({ subjects: [subject('bob')] });
    expect(await done).toBe(true);
    expect(store.subjects().map(s => s.name)).toEqual(['bob']);
  });

  it('renames with PUT {name: new} and reloads the list', async () => {
    const done = store.renameSubject('bob', 'robert');
    const req = http.expectOne('/api/face/subjects/bob');
    expect(req.request.method).toBe('PUT');
    expect(req.request.body).toEqual({ name: 'robert' });
    req.flush(subject('robert'));
    await settle();
    http.expectOne('/api/face/subjects').flush({ subjects: [subject('robert')] });
    expect(await done).toBe(true);
    expect(store.subjects().map(s => s.name)).toEqual(['robert']);
  });

  it('deletes a subject, says how many faces went, and reloads the list', async () => {
    store.subjects.set([subject('bob', 2)]);
    const done = store.deleteSubject('bob');
    const req = http.expectOne('/api/face/subjects/bob');
    expect(req.request.method).toBe('DELETE');
    req.flush({ deleted_faces: 2 });
    await settle();
    http.expectOne('/api/face/subjects').flush({ subjects: [] });
    await done;
    expect(store.subjects()).toEqual([]);
    expect(store.message()).toContain('2 faces');
  });

  it('puts a problem body in the problem signal, does not reload, and a later success clears it', async () => {
    const done = store.createSubject('bob');
    http.expectOne('/api/face/subjects').flush(
      { type: 'about:blank', title: 'Subject exists', status: 409, detail: 'a subject named bob exists' },
      { status: 409, statusText: 'Conflict', headers: { 'content-type': 'application/problem+json' } });
    expect(await done).toBe(false);
    expect(store.problem()).toEqual(expect.objectContaining({ title: 'Subject exists', status: 409, detail: 'a subject named bob exists' }));
    expect(store.busy()).toBe(false);

    const load = store.loadSubjects();
    http.expectOne('/api/face/subjects').flush({ subjects: [] });
    await load;
    expect(store.problem()).toBeNull();
  });

  it('a 503 while face-service is down lands in the problem signal and keeps the photo', async () => {
    store.choose(photo());
    const done = store.detect({});
    http.expectOne(r => r.url === '/api/face/detect').flush(
      { title: 'face-service unavailable', status: 503, detail: 'retry later' },
      { status: 503, statusText: 'Service Unavailable', headers: { 'Retry-After': '5' } });
    await done;
    expect(store.problem()?.status).toBe(503);
    expect(store.photo()).not.toBeNull();
    expect(store.detected()).toBeNull();
  });

  it('busy stays on until every call in flight has ended', async () => {
    store.choose(photo());
    const detecting = store.detect({});
    const loading = store.loadSubjects();
    http.expectOne('/api/face/subjects').flush({ subjects: [] });
    await loading;
    expect(store.busy()).toBe(true);
    http.expectOne(r => r.url === '/api/face/detect').flush(detectReply([]));
    await detecting;
    expect(store.busy()).toBe(false);
  });
});

describe('face helpers', () => {
  it('queryParams leaves out null, undefined and empty values', () => {
    const params = queryParams({ status: true, detector: undefined, det_prob_threshold: null, limit: 0, x: '' });
    expect(params.toString()).toBe('status=true&limit=0');
  });

  it('detectParams names the API options', () => {
    expect(detectParams({ detector: 'front', minScore: 0.5, limit: 2 }))
      .toEqual({ status: true, detector: 'front', det_prob_threshold: 0.5, limit: 2 });
  });

  it('boxParams gives the enrolment box parameters', () => {
    expect(boxParams({ x: 1, y: 2, width: 3, height: 4 })).toEqual({ box_x: 1, box_y: 2, box_width: 3, box_height: 4 });
  });

  it('imageForm puts the image in field "file"', () => {
    const file = photo();
    const form = imageForm(file);
    expect([...form.keys()]).toEqual(['file']);
    expect((form.get('file') as File).name).toBe('me.jpg');
  });

  it('matchLabel names the best match, or says unknown', () => {
    expect(matchLabel([])).toBe('unknown');
    expect(matchLabel([{ subject: 'bob', similarity: 0.5 }, { subject: 'alice', similarity: 0.8149 }])).toBe('alice 0.81');
  });

  it('timingText lists the stages, numbers or numeric strings, and is empty without timings', () => {
    expect(timingText({ decode: 2.14, detect: '15' })).toBe('decode 2.1 ms · detect 15.0 ms');
    expect(timingText(undefined)).toBe('');
    expect(timingText({})).toBe('');
  });

  it('faceCount says face or faces', () => {
    expect([0, 1, 2].map(faceCount)).toEqual(['0 faces', '1 face', '2 faces']);
  });

  it('overlayUnit is 1 % of the longer side, so labels keep their proportion at any image size', () => {
    expect(overlayUnit({ width: 640, height: 480 })).toBe(6.4);
    expect(overlayUnit({ width: 300, height: 2000 })).toBe(20);
    expect(overlayUnit({ width: 20, height: 10 })).toBe(1);
  });

  it('labelAt puts the score above the box, or inside it when the box touches the top', () => {
    const unit = 10;
    expect(labelAt({ x: 5, y: 200, width: 50, height: 50 }, unit)).toEqual({ x: 5, y: 194 });
    expect(labelAt({ x: 5, y: 3, width: 50, height: 50 }, unit)).toEqual({ x: 5, y: 3 + fontSize(unit) });
  });

  it('matchLabelAt puts the match below the box, or inside it at the foot of the image', () => {
    const unit = 10;
    const image = { width: 400, height: 300 };
    expect(matchLabelAt({ x: 5, y: 100, width: 50, height: 50 }, unit, image)).toEqual({ x: 5, y: 150 + fontSize(unit) });
    expect(matchLabelAt({ x: 5, y: 200, width: 50, height: 95 }, unit, image)).toEqual({ x: 5, y: 289 });
  });
});

