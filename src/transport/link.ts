/**
 * A Link is one bidirectional, message-framed connection between two Rembus peers. The broker
 * accepts any Link (`broker.handle(link)`); WebSocket and in-memory links implement it.
 */
import type { Observable } from 'rxjs';
import type { Frame, FrameParts } from '../codec/wire.js';

export type { Frame, FrameParts };

/** One message-framed connection. */
export interface Link {
  /**
   * Frames from the peer, in order. Hot; meant for one subscriber. Completes when the link
   * closes (either side); never errors for an ordinary close.
   */
  readonly frames$: Observable<Frame>;
  /** Queue one frame for the peer. Silently dropped once the link is closed. */
  send(frame: Frame): void;
  /**
   * `send` for a binary frame given in parts, written where the link's bytes go with no frame
   * of its own made (wildcard deliveries, issue 20). Links that keep frames leave it out; the
   * broker then sends `frame.bytes()`.
   */
  sendParts?(frame: FrameParts): void;
  /** Close the link. Idempotent. */
  close(code?: number, reason?: string): void;
  /** True until the link closes. */
  readonly isOpen: boolean;
  /** Frames queued but not yet written (for back-pressure decisions); 0 when unknown. */
  readonly bufferedAmount: number;
  /**
   * Bytes of the socket write under way that the OS has not taken yet: it falls as a slow peer
   * reads, where `bufferedAmount` only falls once a whole write is done. Undefined when unknown.
   */
  readonly writeQueueSize?: number;
  /**
   * Bytes that an `abort` now would drop, the OS having not taken them (a slow consumer's cut
   * rolls its mark back to the rest, mark-ledger.ts). Undefined when unknown (`bufferedAmount` then).
   */
  readonly unsent?: number;
  /** A human-readable peer address for logs. */
  readonly remote: string;
  /**
   * Stop reading from the peer (frames already received still arrive) until `resume`. Links
   * that cannot (in-memory ones) leave both out; the broker then never pauses them.
   */
  pause?(): void;
  /** Read from the peer again after `pause`. */
  resume?(): void;
  /**
   * Drop the connection now, without a closing handshake: for a peer that reads nothing and so
   * would never see a close frame. Links without it are closed with `close` instead.
   */
  abort?(): void;
  /**
   * Ask the peer whether it is still there (a WebSocket ping): true once it answers within
   * `timeout` ms, false when it does not or the link closes first. Links that cannot ask leave
   * it out (the broker then takes them for alive: no name is taken over from them).
   */
  probe?(timeout: number): Promise<boolean>;
  /**
   * Told by the reader of `frames$` (the broker's decode stage) the topic of a PUB frame it read
   * in place, while that frame is being emitted: a wrapper counting publishes per topic (the
   * wire meter, src/http/meter.ts) takes it rather than reading the frame's bytes again. Links
   * that do not count leave it out.
   */
  topicRead?(frame: Uint8Array, topic: string): void;
}

/** Opens a link to a URL. */
export type Dial = (url: string) => Promise<Link>;
