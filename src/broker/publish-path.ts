/**
 * The broker's publish path (spec §4.2–4.5): authorize, acknowledge once durable, log, route
 * and fan out, then hand the publish to the stages downstream (`messages$`: schema tables,
 * bridges). Flow control tallies every fan-out so that a publisher whose readers are all behind
 * is paused.
 */
import type { Subject } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { slotOf, type MsgId, type PubMsg } from '../protocol/messages.js';
import type { Logger } from '../types.js';
import type { FlowControl } from './flow-control.js';
import { publisherName, type Guard, type Publisher } from './guard.js';
import type { MessageLog } from './message-log.js';
import { publishedOf } from './published.js';
import { encodeValue } from '../codec/cbor.js';
import { OUT_RETAIN } from './meta-frames.js';
import { expiryOf, splitMeta, type PublishOptionsIn } from './pub-options.js';
import type { RetainedValues } from './retained.js';
import type { Router } from './router.js';
import type { Session, Twin } from './twin.js';
import type { Published } from './types.js';
import type { ContractIngest } from '../contracts/ingest.js';

export interface PublishPathDeps {
  readonly guard: Guard;
  readonly messageLog: MessageLog;
  readonly router: Router;
  readonly flow: FlowControl;
  readonly messages$: Subject<Published>;
  readonly log: Logger;
  /** The contract check at ingest (`broker({ contracts })`, src/contracts/ingest.ts). */
  readonly ingest?: ContractIngest<Publisher>;
  readonly retained: RetainedValues;
}

export class PublishPath {
  /** Set by a cluster (src/cluster): takes QoS1/2 publishes, stores them cluster-wide, ACKs them. */
  replicate: ((session: Session, msg: PubMsg) => void) | undefined;

  constructor(private readonly deps: PublishPathDeps) {}

  /** A PUB from a component. */
  onPublish(session: Session, msg: PubMsg, frame: Frame | null): void {
    const twin = session.twin;
    let options: PublishOptionsIn | undefined;
    // TS publish options (src/protocol/pub-meta.ts): subscribers and the log get the plain message.
    if (msg.meta !== undefined) ({ msg, options } = splitMeta(msg)), frame = null;
    if (!this.deps.guard.mayPublish(twin, msg.topic)) {
      // JL: an unauthorized publish is dropped without ACK; a QoS1/2 publisher times out (spec §4.2),
      // unless it asked to hear of it at once (TS extension, src/protocol/refusals.ts).
      this.deps.log.debug({ cid: twin.name, topic: msg.topic }, 'unauthorized publish dropped');
      this.deps.guard.refusePublish(session, msg.flags, msg.id, msg.topic);
      return;
    }
    const qos = msg.flags & 0x30;
    const invalid = this.deps.ingest?.check(msg.topic, () => msg.args, qos, twin);
    if (invalid !== undefined) {
      this.deps.log.debug({ cid: twin.name, topic: msg.topic, reason: invalid }, 'publish refused by contract');
      this.deps.guard.refusePublish(session, msg.flags, msg.id, msg.topic, invalid);
      return;
    }
    if (qos === 0 || msg.id === undefined) {
      this.accept(twin, msg, frame, twin.name, options);
      return;
    }
    if (this.deps.messageLog.saturated) {
      // The store is behind (or failing) and the log buffer is full: not taken, not acked.
      this.deps.log.warn({ cid: twin.name }, 'message log full: acknowledged publish refused');
      return;
    }
    if (this.replicate !== undefined) return this.replicate(session, msg);
    // Every copy is acked; QoS2 copies seen before are not delivered again (spec §4.2). The
    // id joins the twin's QoS2 set in the same commit as the message's log row.
    if (qos !== 0x30 || twin.rememberQos2(msg.id)) this.accept(twin, msg, frame, twin.name, options);
    this.ackWhenDurable(session, msg.id);
  }

  /**
   * Log, route and pass on an authorized publish; `twin` null for the broker's own, or for a
   * publish of another broker of the cluster, whose publisher's name (when it has one) is
   * `publisher` — for the tenant checks (guard.ts).
   */
  accept(twin: Twin | null, msg: PubMsg, frame: Frame | null, origin: string, options?: PublishOptionsIn, publisher?: string): void {
    if (options !== undefined) return this.acceptWithOptions(twin, msg, origin, options, publisher);
    const { messageLog, router, flow, messages$, guard } = this.deps;
    const slot = slotOf(msg);
    const by = twin ?? publisher ?? null;
    // A publish read in place is logged from its frame (src/store/frame-row.ts).
    const recv = messageLog.append(msg, slot, undefined, guard.logOrigin(by));
    flow.routing();
    router.publish(twin, msg, frame, recv, guard.receivers(by, msg.topic));
    flow.published(twin?.session ?? null);
    // Args stay encoded: a stage decodes them if it needs the values (published.ts).
    if (messages$.observed) messages$.next(publishedOf(msg, slot, recv, origin, undefined, guard.tenantsIsolated ? publisherName(by) : undefined));
  }

  /** A publish with `retain` or `ttl` (retained.ts, pub-options.ts): off the plain hot path. */
  private acceptWithOptions(twin: Twin | null, msg: PubMsg, origin: string, options: PublishOptionsIn, by?: string): void {
    const { messageLog, router, flow, messages$, guard, retained } = this.deps;
    const slot = slotOf(msg);
    const argsBytes = encodeValue(msg.args);
    const expires = expiryOf(options, Date.now());
    // '' an anonymous publisher (its tenant is the default one), undefined the broker itself.
    const publisher = twin === null ? by : twin.anonymous ? '' : twin.name;
    // The log's row: with isolated tenants the broker's own is null (every tenant's, guard.ts).
    const logged = publisher ?? (guard.tenantsIsolated ? null : undefined);
    let retain = false;
    const recv = messageLog.append(msg, slot, argsBytes, (at) => {
      retain = options.retain === true && retained.offer(msg, at, expires, publisher, argsBytes.byteLength);
      return { expires: expires === 0 ? null : BigInt(expires) * 1_000_000n, retain,
        ...(logged === undefined ? {} : { origin: logged }) };
    });
    flow.routing();
    router.publish(twin, msg, null, recv, guard.receivers(twin ?? by ?? null, msg.topic), options.retain === true ? OUT_RETAIN : 0, expires);
    flow.published(twin?.session ?? null);
    if (messages$.observed) {
      messages$.next({ ...publishedOf(msg, slot, recv, origin, argsBytes, guard.tenantsIsolated ? publisher ?? null : undefined),
        ...(options.retain === true ? { retain: true } : {}), ...(expires === 0 ? {} : { expires }) });
    }
  }

  /**
   * The ACK leaves once the commit holding the message (and its QoS2 id) succeeded: the
   * publishes of one event-loop turn share one commit (group commit). Never before: a publish
   * made while a commit is under way waits for the next one.
   */
  private ackWhenDurable(session: Session, id: MsgId): void {
    this.deps.messageLog.afterCommit(() => {
      if (session.link.isOpen) session.send({ type: 'ack', id });
    });
  }
}
