/**
 * A Component whose implementation is loaded asynchronously (the MQTT one imports mqtt.js, an
 * optional peer, only when an `mqtt://` URL is used). Until it is there, streams wait for it,
 * Promise helpers chain on it, publishes and exposes are replayed onto it in order.
 */
import { BehaviorSubject, from, isObservable, Observable, switchMap } from 'rxjs';
import { ConnectionClosedError } from '../errors.js';
import type { Status } from '../types.js';
import type { Component } from './types.js';
import { publishContract, type ContractHost } from '../contracts/client.js';
import type { TopicContract } from '../contracts/topic.js';

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Wrap `load()` as a Component available at once.
 * @param name the component's name, known before loading
 * @param load resolves with the real component
 */
export function deferredComponent(name: string | undefined, load: () => Promise<Component>): Component {
  let target: Component | undefined;
  let closed = false;
  const pending: ((c: Component) => void)[] = [];
  const loading = load().then((c) => {
    target = c;
    for (const run of pending.splice(0)) run(c);
    if (closed) void c.close();
    return c;
  });
  const status$ = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  loading.then((c) => c.status$.subscribe(status$), (err: unknown) => {
    status$.next({ type: 'down', error: err });
    status$.complete();
  });
  loading.catch(() => undefined);

  const later = (run: (c: Component) => void): void => {
    if (target !== undefined) run(target);
    else pending.push(run);
  };
  /** `expose`-like calls: replayed onto the implementation, their teardown returned at once. */
  const declare = (key: 'expose' | 'exposeAction', args: unknown[]): (() => void) => {
    let teardown: (() => void) | undefined;
    let cancelled = false;
    later((c) => { if (!cancelled) teardown = (c[key] as AnyFn)(...args) as () => void; });
    return () => { cancelled = true; teardown?.(); };
  };
  const special: Record<string | symbol, unknown> = {
    name,
    status$: status$.asObservable(),
    invalid$: from(loading).pipe(switchMap((c) => c.invalid$)),
    ready: () => loading.then((c) => c.ready()),
    publish: (...args: unknown[]) => {
      if (closed) throw new ConnectionClosedError('component closed');
      // A contract publish is checked now (its error is the caller's), sent once loaded.
      if (typeof args[0] !== 'string') {
        const host = { publish: (...a: unknown[]) => later((c) => (c.publish as AnyFn)(...a)) } as ContractHost;
        return publishContract(host, args[0] as TopicContract, args[1] as Record<string, string>, args[2]);
      }
      later((c) => (c.publish as AnyFn)(...args));
    },
    expose: (...args: unknown[]) => declare('expose', args),
    exposeAction: (...args: unknown[]) => declare('exposeAction', args),
    close: () => {
      closed = true;
      return target === undefined ? Promise.resolve() : target.close();
    },
    [Symbol.asyncDispose]: () => (special['close'] as () => Promise<void>)(),
  };
  return new Proxy({} as Component, {
    get(_obj, key) {
      if (key in special) return special[key];
      if (target !== undefined) {
        const value = (target as unknown as Record<string | symbol, unknown>)[key];
        return typeof value === 'function' ? (value as AnyFn).bind(target) : value;
      }
      // Streams wait for the implementation; anything else is a Promise helper.
      return (...args: unknown[]) => typeof key === 'string' && key.endsWith('$')
        ? from(loading).pipe(switchMap((c) => call$(c, key, args)))
        : loading.then((c) => ((c as unknown as Record<string, AnyFn>)[key as string]!)(...args));
    },
  });
}

function call$(c: Component, key: string, args: unknown[]): Observable<unknown> {
  const result = ((c as unknown as Record<string, AnyFn>)[key]!)(...args);
  if (!isObservable(result)) throw new TypeError(`${key} did not return an Observable`);
  return result;
}
