/**
 * QoS1/2 publishes across the cluster, through JetStream: the broker that receives one does not
 * route it, it stores it in the stream `REMBUS_<c>` (subjects `rembus.<c>.m1.>`) with
 * `Nats-Msg-Id` = publisher name + message id, and the publisher's ACK leaves once JetStream
 * acknowledged the store. Every broker (the first included) routes them from one ordered
 * consumer of the stream, so all brokers see one order, a QoS2 message re-sent to another broker
 * after a failover is stored once (JetStream's duplicate window), and the publisher's own twin
 * never gets its message back.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Session, Twin } from '../broker/twin.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import type { ClusterHost } from './cluster-host.js';
import { argsOf, encodeArgs } from './message-body.js';
import type { SeqIndex } from './seq-index.js';
import { subjectToTopic, topicToSubject } from './subject.js';

/** Publishers remembered between their publish and its return from the stream (no echo). */
const ORIGINS_CAPACITY = 100_000;

/** Make sure the stream exists; resolves with the sequence of its last message (0: none). */
export async function ensureStream(nc: NatsConnection, stream: string, config: Record<string, unknown>): Promise<number> {
  const jsm = await jetstreamManager(nc);
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch {
    // not there yet
  }
  try {
    return (await jsm.streams.add({ name: stream, ...config })).state.last_seq;
  } catch (err) {
    // Another broker created it meanwhile: fine, anything else is not.
    return (await jsm.streams.info(stream).catch(() => { throw err; })).state.last_seq;
  }
}

export class StreamPublishes {
  private readonly origins = new Map<string, Twin>();
  private stopConsumer: (() => void) | undefined;
  /** Stream sequence of the last message routed. */
  private lastSeq = 0;

  /**
   * @param index stream sequence ↔ this broker's recv of what it routed (seq-index.ts)
   * @param closing whether the cluster is leaving: the consumer loop ends
   */
  constructor(private readonly js: JetStreamClient, private readonly host: ClusterHost, private readonly prefix: string,
    private readonly index: SeqIndex, private readonly closing: () => boolean) {}

  /** A QoS1/2 publish of a component of this broker: ACK once JetStream has it. */
  replicate(session: Session, msg: PubMsg): void {
    const twin = session.twin;
    const msgId = `${twin.name}:${msg.id!.toString(16)}`;
    let body: Uint8Array;
    try {
      body = (msg as { argsBytes?: Uint8Array }).argsBytes ?? encodeArgs(msg.args);
    } catch (err) {
      this.host.log.warn({ topic: msg.topic, err: errorText(err) }, 'publish refused: args not encodable');
      return;
    }
    const h = headers();
    h.set('f', String(msg.flags));
    h.set('i', msg.id!.toString(16));
    h.set('o', twin.name);
    this.origins.set(msgId, twin);
    if (this.origins.size > ORIGINS_CAPACITY) this.origins.delete(this.origins.keys().next().value!);
    this.js.publish(topicToSubject(`${this.prefix}.m1`, msg.topic), body, { msgID: msgId, headers: h }).then(
      () => { if (session.link.isOpen) session.send({ type: 'ack', id: msg.id! }); },
      // No ACK: the component sends it again (to this broker or, after a failover, another).
      (err: unknown) => this.host.log.warn({ topic: msg.topic, err: errorText(err) }, 'publish not stored in JetStream'),
    );
  }

  /**
   * Route the stream's messages from `lastSeq` on. The ordered consumer re-creates itself after
   * a NATS node is lost; after a reconnect, or should it give up (JetStream without a leader for
   * a while), a new one starts after the last message routed, so none is skipped and none routed twice.
   */
  async consume(stream: string, lastSeq: number): Promise<void> {
    this.lastSeq = lastSeq;
    const open = async (): Promise<ConsumerMessages> => (await this.js.consumers.get(stream,
      { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 })).consume({ expires: 5_000 });
    let messages = await open();
    this.stopConsumer = () => void messages.close();
    void (async () => {
      while (!this.closing()) {
        try {
          for await (const m of messages) {
            this.lastSeq = m.seq;
            this.inbound1(m);
            this.index.add(m.seq, this.host.logHead());
          }
        } catch (err) {
          this.host.log.warn({ err: errorText(err) }, 'cluster stream consumer lost: resuming');
        }
        while (!this.closing()) {
          try {
            messages = await open();
            this.stopConsumer = () => void messages.close();
            break;
          } catch (err) {
            this.host.log.debug({ err: errorText(err) }, 'cluster stream consumer: retrying');
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      }
    })();
  }

  private inbound1(m: JsMsg): void {
    const topic = subjectToTopic(`${this.prefix}.m1`, m.subject);
    const h = m.headers;
    if (topic === undefined || h === undefined) return;
    const args = argsOf(topic, m.data, this.host.log);
    if (args === undefined) return;
    const idHex = h.get('i');
    const origin = h.get('o');
    const key = `${origin}:${idHex}`;
    const from = this.origins.get(key) ?? null;
    this.origins.delete(key);
    this.host.inject({ type: 'pub', flags: Number(h.get('f')), id: BigInt(`0x${idHex}`), topic, args },
      from === null ? `cluster:${origin}` : origin, from, origin);
  }

  /**
   * End the consumer: after a NATS reconnect (the loop then starts a new one after the last
   * message routed, since the ordered consumer may stall on another node until its heartbeats
   * time out), or on close.
   */
  stop(): void {
    this.stopConsumer?.();
  }
}
