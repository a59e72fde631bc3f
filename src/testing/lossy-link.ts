/**
 * A Link wrapper that loses, duplicates and delays frames on a script, in both directions:
 * the network misbehaving, for QoS tests.
 */
import { asyncScheduler, delay, EMPTY, from, mergeMap, of, type Observable } from 'rxjs';
import type { Frame, Link } from '../transport/link.js';

/** Which way a frame travels through the wrapped link. */
export type Direction = 'out' | 'in';

/** The script: each hook sees the frame, its direction and its 1-based index in that direction. */
export interface LossScript {
  /** Lose this frame. Default never. */
  drop?: (frame: Frame, direction: Direction, index: number) => boolean;
  /** Deliver this frame twice. Default never. */
  duplicate?: (frame: Frame, direction: Direction, index: number) => boolean;
  /** Hold this frame back for this many ms (later frames may overtake it). Default 0. */
  delay?: (frame: Frame, direction: Direction, index: number) => number;
}

/**
 * Wrap `inner` so that frames are dropped, duplicated or delayed as `script` says. Delays use
 * `asyncScheduler`, so they follow virtual time (`TestScheduler.run`, `virtualNetwork`).
 *
 * @example
 * ```ts
 * import { component } from 'rembus';
 * import { broker } from 'rembus/broker';
 * import { lossyLink, memoryLinkPair, decodeFrame } from 'rembus/testing';
 * const hub = await broker({ port: null });
 * // Lose the broker's first ACK to this component (it re-sends the QoS1 publish).
 * const dropFirstAck = (frame: Frame, dir: Direction) => dir === 'in' && decodeFrame(frame as Uint8Array).type === 'ack';
 * const node = component('ws://broker/pub', { dial: async () => {
 *   const [client, server] = memoryLinkPair();
 *   hub.handle(server);
 *   return lossyLink(client, { drop: dropFirstAck });
 * } });
 * ```
 * Inside a {@link virtualNetwork}, `net.component('pub', { loss: { drop: dropFirstAck } })` does the same.
 */
export function lossyLink(inner: Link, script: LossScript): Link {
  let outCount = 0;
  let inCount = 0;
  const copies = (frame: Frame, direction: Direction, index: number): Frame[] => {
    if (script.drop?.(frame, direction, index) === true) return [];
    return script.duplicate?.(frame, direction, index) === true ? [frame, frame] : [frame];
  };
  const frames$: Observable<Frame> = inner.frames$.pipe(mergeMap((frame) => {
    const index = ++inCount;
    const out = copies(frame, 'in', index);
    const ms = script.delay?.(frame, 'in', index) ?? 0;
    if (out.length === 0) return EMPTY;
    return ms > 0 ? of(...out).pipe(delay(ms)) : from(out);
  }));
  return {
    frames$,
    get isOpen() { return inner.isOpen; },
    get bufferedAmount() { return inner.bufferedAmount; },
    remote: inner.remote,
    close: (code?: number, reason?: string) => inner.close(code, reason),
    send: (frame: Frame) => {
      const index = ++outCount;
      const ms = script.delay?.(frame, 'out', index) ?? 0;
      for (const copy of copies(frame, 'out', index)) {
        if (ms > 0) asyncScheduler.schedule(() => inner.send(copy), ms);
        else inner.send(copy);
      }
    },
  };
}
