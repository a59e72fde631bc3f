/**
 * The rxjs values the broker's start path uses, each from its own module (issue 20, W7).
 *
 * In Node the root `rxjs` entry is CommonJS (`dist/cjs/index.js`) and requires all of its 223
 * files — every operator and observable creator — when anything is imported from it. The
 * broker uses ten of them at start, so the modules a plain broker loads take them from
 * `rxjs/internal/*`, which rxjs 7 exports for every condition (Node: `dist/cjs/internal/*`,
 * bundlers: `dist/esm5/internal/*`). These are the very files the root entry re-exports, so a
 * `Subject` from here is the application's `Subject` (one module instance, `instanceof` holds).
 * Types still come from the root `rxjs` (`import type`, erased).
 *
 * Only for code a broker or a component loads eagerly; everything else imports `rxjs`.
 */
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { Subscription } from 'rxjs/internal/Subscription';
export { of } from 'rxjs/internal/observable/of';
export { combineLatest } from 'rxjs/internal/observable/combineLatest';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { isObservable } from 'rxjs/internal/util/isObservable';
export { lastValueFrom } from 'rxjs/internal/lastValueFrom';
export { map } from 'rxjs/internal/operators/map';
export { tap } from 'rxjs/internal/operators/tap';
export { ObjectUnsubscribedError } from 'rxjs/internal/util/ObjectUnsubscribedError';
