import { platform } from '#platform';
import { asyncScheduler } from 'rxjs';
import { ConnectionError, UnsupportedSchemeError } from '../errors.js';
import { ComponentImpl } from './component-impl.js';
import { deferredComponent } from './deferred-component.js';
import type { Component, ComponentOptions } from './types.js';

/**
 * Create a component and start connecting in the background. The returned component can be
 * used at once: subscriptions and methods are declared when the link comes up (and again
 * after every reconnect); QoS0 publishes are held while disconnected; RPCs wait for the link
 * within their timeout.
 *
 * @example
 * ```ts
 * import { component } from 'rembus';
 * const node = component('ws://127.0.0.1:8338/monitor');
 * node.subscribe$('**\/telemetry').subscribe((m) => console.log(m.topic, m.args));
 * ```
 * @param url `ws://host:port/name`, a bare `name`, or `ws://host:port` for an anonymous component (spec §1.2)
 * @param options see {@link ComponentOptions}
 * @returns the component; `status$` reports the link
 * @throws InvalidTopicError for a URL that is neither a URL nor a name
 * @see connect to wait until the component is up
 */
export function component(url: string | readonly string[], options?: ComponentOptions): Component {
  if (typeof url === 'string' && MQTT_URL.test(url)) return mqttDeferred(url, options ?? {});
  return new ComponentImpl(url, options);
}

const MQTT_URL = /^mqtts?:\/\//i;

/**
 * `mqtt://host:port/name`: the same API on an MQTT 5 broker, no Rembus broker (rembus/mqtt).
 * mqtt.js is an optional peer, loaded only here, and only on Node.
 */
function mqttDeferred(url: string, options: ComponentOptions): Component {
  const load = platform.mqtt;
  if (load === undefined) {
    throw new UnsupportedSchemeError(url, url.slice(0, url.indexOf(':')).toLowerCase(), 'MQTT components run on Node only (rembus/mqtt)');
  }
  const name = /^mqtts?:\/\/[^/]*\/(.+)$/i.exec(url)?.[1];
  return deferredComponent(name === undefined ? undefined : decodeURIComponent(name), () => load(url, options));
}

/**
 * Create a component and wait until it is up (logged in, declarations sent). Within
 * `connectTimeout` it keeps trying (with backoff, over the failover list); past it, or when
 * `signal` aborts, it gives up. Once up, dropped links are reconnected for good.
 *
 * @example
 * ```ts
 * import { connect } from 'rembus';
 * await using node = await connect(['ws://10.0.0.1:8338/client', 'ws://10.0.0.2:8338'], { connectTimeout: 5_000 });
 * console.log(await node.rpc('rid'));
 * ```
 * @param url one URL, or a failover list: the first names the component and is preferred
 * @returns the connected component
 * @throws ConnectionError naming the last cause when not up within `connectTimeout`;
 * `signal.reason` when aborted; AuthError or NameTakenError when the broker refuses the name;
 * UnsupportedSchemeError / InvalidTopicError for a bad URL (at once).
 */
export async function connect(url: string | readonly string[], options: ComponentOptions = {}): Promise<Component> {
  options.signal?.throwIfAborted();
  const node = component(url, options);
  try {
    await firstUp(node, url, options.connectTimeout ?? 10_000, options.signal);
  } catch (err) {
    await node.close();
    throw err;
  }
  return node;
}

/** `node.ready()`, bounded by `timeoutMs` and `signal`; the timeout error names the last cause. */
function firstUp(node: Component, url: string | readonly string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cause: unknown;
    const watch = node.status$.subscribe((s) => {
      if ((s.type === 'reconnecting' || s.type === 'down') && s.error !== undefined) cause = s.error;
    });
    const onAbort = (): void => done(signal!.reason);
    // asyncScheduler, not setTimeout: the deadline follows TestScheduler.run (rembus/testing).
    const timer = asyncScheduler.schedule(() => {
      const where = typeof url === 'string' ? url : url.join(', ');
      const why = cause === undefined ? 'no answer' : cause instanceof Error ? cause.message : String(cause);
      done(new ConnectionError(`cannot connect to ${where} within ${timeoutMs} ms: ${why}`, { cause }));
    }, timeoutMs);
    const done = (err?: unknown): void => {
      timer.unsubscribe();
      watch.unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    node.ready().then(() => done(), done);
  });
}
