/**
 * Streaming calls across brokers (`rpc$` of a method served on another broker), both ends:
 *
 * - **Calling broker.** Publishes `[method, target, args, true, <its id>, [caller, proven]]` on the serving
 *   broker's RPC subject with an inbox as reply; the serving broker publishes
 *   `[kind, status, data]` on that inbox, kind `start` (it is listening for a cancel), `item`,
 *   `end` or `final` (one answer or an error), relayed to the caller as the broker relays a
 *   local stream.
 * - **Cancel.** The caller's cancel (the component unsubscribes), its disconnect, and this
 *   broker's close publish on `<inbox>.cancel`, which the serving broker listens to for the
 *   life of the stream; it unsubscribes its in-process call, whose cancel reaches the exposer.
 *   A cancel before `start` is held and sent when `start` comes (the serving broker subscribes
 *   before it sends `start`, so the cancel cannot overtake its subscription).
 * - **A broker that goes.** Streams served by a broker that leaves the directory end for their
 *   callers with 43; streams served *for* a broker that leaves it (killed with -9: no cancel
 *   will ever come) are cancelled by the serving broker: bounded by three advertise intervals.
 */
import { Decoder, Encoder } from 'cbor-x';
import type { Subscription } from 'rxjs';
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import type { Session } from '../broker/twin.js';
import type { Component } from '../component/types.js';
import { errorText } from '../internal/logger.js';
import { STATUS, type MsgId, type RpcMsg } from '../protocol/messages.js';
import type { ClusterHost } from './cluster-host.js';

const cbor = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

/** One stream relayed to a caller of this broker. */
interface Relayed { caller: Session; broker: string; cancel(): void; end(why: string): void }

export class StreamRelay {
  /** Streams relayed to callers of this broker, by call id. */
  private readonly relayed = new Map<MsgId, Relayed>();
  /** Streams served for each calling broker: how to stop each. */
  private readonly served = new Map<string, Set<() => void>>();

  constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost, private readonly id: string,
    private readonly failure: (err: unknown) => [number, unknown]) {}

  /** Relay call `msg` of `caller` (`who`: its name and whether it proved it), served by `broker` on `subject`. */
  forward(caller: Session, msg: RpcMsg, subject: string, broker: string, who: [string, boolean]): void {
    const inbox = createInbox();
    let started = false;
    let cancelled = false;
    const sendCancel = (): void => {
      if (!this.nc.isClosed()) this.nc.publish(`${inbox}.cancel`);
    };
    const done = (): void => {
      sub.unsubscribe();
      if (this.relayed.get(msg.id) === entry) this.relayed.delete(msg.id);
    };
    const entry: Relayed = {
      caller, broker,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        // Before `start` the serving broker may not listen yet: the cancel waits for `start`
        // (the entry stays, so the serving broker leaving the directory still clears it).
        if (!started) return;
        done();
        sendCancel();
      },
      end: (why) => {
        done();
        sendCancel();
        if (!cancelled) this.host.reply(caller, msg.id, STATUS.METHOD_UNAVAILABLE, `${msg.topic}: ${why}`);
      },
    };
    const sub = this.nc.subscribe(inbox, { callback: (err, m) => {
      if (err !== null) return entry.end(errorText(err));
      let frame: ['start' | 'item' | 'end' | 'final', number, unknown];
      try {
        frame = decoder.decode(m.data) as typeof frame;
      } catch {
        return;
      }
      const [kind, status, data] = frame;
      if (kind === 'start') {
        started = true;
        if (cancelled) {
          done();
          sendCancel();
        }
        return;
      }
      if (cancelled) return;
      if (kind !== 'item') done();
      if (kind === 'final') return this.host.reply(caller, msg.id, status, data);
      if (caller.link.isOpen) caller.send({ type: 'response', id: msg.id, status: STATUS.OK, data, stream: kind });
    } });
    this.relayed.set(msg.id, entry);
    this.nc.publish(subject, cbor.encode([msg.topic, msg.target, msg.args, true, this.id, who]), { reply: inbox });
  }

  /** The caller withdraws call `id`: true when it is a stream relayed here. */
  cancel(caller: Session, id: MsgId): boolean {
    const entry = this.relayed.get(id);
    if (entry === undefined || entry.caller !== caller) return false;
    entry.cancel();
    return true;
  }

  /** A caller is gone: cancel its relayed streams. */
  detach(caller: Session): void {
    for (const entry of [...this.relayed.values()]) if (entry.caller === caller) entry.cancel();
  }

  /** `broker` left the directory: its streams end for their callers, the streams served for it stop. */
  brokerGone(broker: string, why: string): void {
    for (const entry of [...this.relayed.values()]) if (entry.broker === broker) entry.end(why);
    const served = this.served.get(broker);
    if (served === undefined) return;
    this.host.log.info({ broker, streams: served.size }, 'calling broker left: its streams stopped');
    for (const stop of [...served]) stop();
  }

  /** Serve a stream for broker `from` through `via`, publishing on `reply` and listening on `<reply>.cancel`. */
  serve(reply: string, method: string, args: unknown[], options: { target?: string }, from: string, via: Component): void {
    let call: Subscription | undefined;
    let set = this.served.get(from);
    if (set === undefined) this.served.set(from, (set = new Set()));
    const streams = set;
    const stop = (): void => {
      cancelSub.unsubscribe();
      call?.unsubscribe();
      streams.delete(stop);
      if (streams.size === 0 && this.served.get(from) === streams) this.served.delete(from);
    };
    const send = (kind: string, status: number, data: unknown): void => {
      if (this.nc.isClosed()) return;
      try {
        this.nc.publish(reply, cbor.encode([kind, status, data ?? null]));
      } catch (err) {
        this.nc.publish(reply, cbor.encode(['final', STATUS.METHOD_EXCEPTION, errorText(err)]));
      }
    };
    const cancelSub = this.nc.subscribe(`${reply}.cancel`, { max: 1, callback: () => stop() });
    streams.add(stop);
    send('start', STATUS.OK, null);
    call = via.call$(method, args, { ...options, stream: true }).subscribe({
      next: (v) => send('item', STATUS.OK, v),
      complete: () => { stop(); send('end', STATUS.OK, null); },
      error: (err: unknown) => { stop(); send('final', ...this.failure(err)); },
    });
  }

  /** This broker closes: callers' streams end with 43 (and are cancelled at their servers), served ones stop. */
  close(): void {
    for (const entry of [...this.relayed.values()]) entry.end('broker closing');
    for (const set of [...this.served.values()]) for (const stop of [...set]) stop();
  }
}
