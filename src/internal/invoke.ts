import { isObservable, lastValueFrom } from './rx.js';

/**
 * Run a handler that may return a value, a Promise or an Observable; resolve with the value,
 * the Promise's result, or the Observable's **last** value (null when it completes empty): the
 * one answer a caller that accepts no stream gets (README "Streaming RPC on the wire").
 * Synchronous throws become rejections.
 */
export function invokeHandler(handler: (...args: any[]) => unknown, args: unknown[]): Promise<unknown> {
  try {
    const result = handler(...args);
    if (isObservable(result)) return lastValueFrom(result, { defaultValue: null });
    return Promise.resolve(result);
  } catch (err) {
    return Promise.reject(err);
  }
}
