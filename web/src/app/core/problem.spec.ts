import { HttpErrorResponse } from '@angular/common/http';
import { signal } from '@angular/core';
import { Problem, attempt, fieldError, toProblem } from './problem';

describe('toProblem', () => {
  it('keeps a problem+json body', () => {
    const body = { title: 'Invalid config', status: 422, detail: 'see errors', errors: [{ field: '/port', message: 'too big' }] };
    const problem = toProblem(new HttpErrorResponse({ status: 422, error: body }));
    expect(problem).toEqual(expect.objectContaining(body));
  });

  it('takes the status from the response when the body has none', () => {
    expect(toProblem(new HttpErrorResponse({ status: 409, error: { title: 'Conflict' } })).status).toBe(409);
  });

  it('says the gateway cannot be reached on status 0', () => {
    const problem = toProblem(new HttpErrorResponse({ status: 0, error: new ProgressEvent('error') }));
    expect(problem.title).toBe('The gateway cannot be reached');
    expect(problem.status).toBe(0);
  });

  it('falls back to statusText and a text body', () => {
    const problem = toProblem(new HttpErrorResponse({ status: 502, statusText: 'Bad Gateway', error: '<html>proxy</html>' }));
    expect(problem).toEqual({ title: 'Bad Gateway', status: 502, detail: '<html>proxy</html>' });
  });

  it('wraps a non-HTTP error', () => {
    expect(toProblem(new Error('boom'))).toEqual({ title: 'Unexpected error', status: 0, detail: 'boom' });
  });
});

describe('fieldError', () => {
  const problem = { title: 'Invalid', status: 422, errors: [{ field: '/name', message: 'required' }, { field: 'port', message: 'too big' }] };

  it('finds a field by pointer or by plain name', () => {
    expect(fieldError(problem, 'name')).toBe('required');
    expect(fieldError(problem, 'port')).toBe('too big');
  });

  it('returns null for no match or no problem', () => {
    expect(fieldError(problem, 'other')).toBeNull();
    expect(fieldError(null, 'name')).toBeNull();
  });
});

describe('attempt', () => {
  it('clears the problem on success and answers true', async () => {
    const problem = signal<Problem | null>({ title: 'old', status: 500 });
    expect(await attempt(problem, async () => 'fine')).toBe(true);
    expect(problem()).toBeNull();
  });

  it('keeps the failure as its problem body and answers false', async () => {
    const problem = signal<Problem | null>(null);
    const failure = new HttpErrorResponse({ status: 409, error: { title: 'Conflict', status: 409, detail: 'version 3 is newer' } });
    expect(await attempt(problem, async () => { throw failure; })).toBe(false);
    expect(problem()).toEqual({ title: 'Conflict', status: 409, detail: 'version 3 is newer' });
  });
});
