import { WritableSignal } from '@angular/core';
import { HttpErrorResponse } from '@angular/common/http';

/** One invalid field of a request: a JSON pointer into the body ("/maxBodyBytes") and why (the problem's "errors"). */
export interface FieldError { field: string; message: string; }

/** An RFC 7807 problem body, as every gateway error carries it. */
export interface Problem { type?: string; title: string; status: number; detail?: string; errors?: FieldError[]; }

/** The problem an API failure carries; a failure without one (network down, proxy page) gets a title that says so. */
export function toProblem(error: unknown): Problem {
  if (error instanceof HttpErrorResponse) {
    const body = error.error;
    if (body && typeof body === 'object' && typeof body.title === 'string') {
      return { ...body, status: body.status ?? error.status } as Problem;
    }
    if (error.status === 0) {
      return { title: 'The gateway cannot be reached', status: 0, detail: 'check that the mesh is running (./bkg status)' };
    }
    return { title: error.statusText || 'Request failed', status: error.status, detail: typeof body === 'string' ? body : undefined };
  }
  return { title: 'Unexpected error', status: 0, detail: error instanceof Error ? error.message : String(error) };
}

/** The error text for one field, by its name (the pointer "/name" or the field "name"). */
export function fieldError(problem: Problem | null, name: string): string | null {
  const hit = problem?.errors?.find(e => e.field === '/' + name || e.field === name);
  return hit ? hit.message : null;
}

/**
 * Runs an API call for a store: a failure lands in `problem` as the problem body the gateway sent,
 * a success clears it. Resolves whether the call succeeded.
 */
export async function attempt(problem: WritableSignal<Problem | null>, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    problem.set(null);
    return true;
  } catch (e) {
    problem.set(toProblem(e));
    return false;
  }
}
