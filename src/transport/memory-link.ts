/**
 * An in-memory Link pair: what one side sends the other receives, synchronously, in order.
 * Used by marble and unit tests to drive the component and broker without sockets.
 */
import { Subject, type Observable } from 'rxjs';
import type { Frame, Link } from './link.js';

class MemoryLink implements Link {
  readonly incoming = new Subject<Frame>();
  readonly frames$: Observable<Frame> = this.incoming.asObservable();
  peer!: MemoryLink;
  isOpen = true;
  readonly bufferedAmount = 0;

  constructor(readonly remote: string) {}

  send(frame: Frame): void {
    if (!this.isOpen) return;
    this.peer.incoming.next(frame);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.incoming.complete();
    this.peer.close();
  }
}

/**
 * Two connected in-memory links.
 *
 * @example
 * ```ts
 * import { memoryLinkPair } from 'rembus/testing';
 * const [client, server] = memoryLinkPair();
 * myBroker.handle(server);
 * ```
 * @returns `[a, b]`: frames sent on `a` arrive on `b.frames$` and vice versa; closing either
 * closes both.
 */
export function memoryLinkPair(names: [string, string] = ['memory:a', 'memory:b']): [Link, Link] {
  const a = new MemoryLink(names[0]);
  const b = new MemoryLink(names[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
