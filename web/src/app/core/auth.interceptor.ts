import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { tap } from 'rxjs';
import { AuthStore } from './auth.store';

/** Sends the session token with every API call; a 401 on anything but the login itself ends the session. */
export const authInterceptor: HttpInterceptorFn = (request, next) => {
  const auth = inject(AuthStore);
  const token = auth.token();
  const isLogin = request.url.endsWith('/api/auth/login');
  const sent = token && !isLogin ? request.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : request;
  return next(sent).pipe(tap({
    error: (e: unknown) => {
      if (e instanceof HttpErrorResponse && e.status === 401 && !isLogin) {
        auth.expired();
      }
    },
  }));
};

/** Pages other than the login need a session. */
export const signedIn: CanActivateFn = () => inject(AuthStore).signedIn() || inject(Router).parseUrl('/login');
