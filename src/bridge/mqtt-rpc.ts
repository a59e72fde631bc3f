/**
 * RPC across the MQTT bridge (issue 17 item 6), on the request/response topics `mqtt://`
 * components use (src/mqtt/rpc-topics.ts, MQTT 5 Response Topic + Correlation Data):
 *
 * - **Rembus → MQTT.** Each method named in `methods` is exposed on the broker by an in-process
 *   component of the bridge; a call is published on `<prefix>/rpc/<method>` with the bridge's
 *   reply topic, and the MQTT exposer's `{ sts, data }` answers it (a status other than 0 fails
 *   the call with 40 and the MQTT status and data in the text; no answer within
 *   `requestTimeout` fails it the same way). MQTT has no discovery: the methods are configured.
 * - **MQTT → Rembus.** The bridge subscribes to `<prefix>/rpc/+` and `<prefix>/direct/#`, calls
 *   the method on the broker (with the target of a direct request) and answers on the request's
 *   Response Topic. When the broker has no such method (or target, or only the bridge serves
 *   it), the bridge stays silent: an MQTT exposer of the method answers instead.
 *
 * Needs MQTT 5 (properties): over 3.1.1, or while the link is down, calls fail at once with 40
 * (calls in flight when the link drops too). Private methods are not callable
 * from MQTT (the bridge's component holds no authorization).
 */
import { firstValueFrom, timeout as rxTimeout } from 'rxjs';
import type { MqttClient, IPublishPacket } from 'mqtt';
import { component } from '../component/component.js';
import type { Component } from '../component/types.js';
import { MethodNotFoundError, RpcError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { encodeResponse, decodeArgs } from '../mqtt/payload.js';
import { PendingCalls, type RpcPublish } from '../mqtt/rpc.js';
import { rpcTopics, type RpcTopics } from '../mqtt/rpc-topics.js';
import { STATUS } from '../protocol/messages.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { Link } from '../transport/link.js';
import type { Logger } from '../types.js';

/** Statuses meaning "not served on the Rembus side": leave the request to MQTT exposers. */
const NOT_HERE = new Set<number>([STATUS.METHOD_NOT_FOUND, STATUS.METHOD_LOOPBACK, STATUS.TARGET_NOT_FOUND,
  STATUS.TARGET_DOWN, STATUS.METHOD_UNAVAILABLE]);

/** Correlation keys of requests already served, to serve a request delivered twice once. */
const SEEN_CAPACITY = 1_024;

export interface MqttRpcOptions {
  readonly client: MqttClient;
  readonly clientId: string;
  readonly prefix: string;
  /** Methods served on the MQTT side that Rembus components may call. */
  readonly methods: readonly string[];
  /** Give up a call to MQTT after this many ms. */
  readonly requestTimeout: number;
  /** Serve a link of the broker (the bridge's in-process component). */
  readonly attach: (link: Link) => void;
  readonly brokerName: string;
  /** The tenant its in-process component is a name of (`.`: a name without a dot). */
  readonly tenant: string;
  readonly log: Logger;
  /** Is the MQTT link up with MQTT 5? */
  readonly v5: () => boolean;
}

export class MqttRpc {
  private readonly topics: RpcTopics;
  private readonly pending: PendingCalls;
  private readonly local: Component;
  private readonly seen = new Set<string>();
  private readonly publish: RpcPublish;

  constructor(private readonly options: MqttRpcOptions) {
    const { client, clientId, prefix, log } = options;
    this.topics = rpcTopics(prefix, clientId);
    this.pending = new PendingCalls(log);
    this.publish = (topic, payload, { responseTopic, correlationData }) => {
      client.publish(topic, payload, { qos: 0, properties: {
        ...(responseTopic === undefined ? {} : { responseTopic }),
        ...(correlationData === undefined ? {} : { correlationData: Buffer.from(correlationData) }),
      } });
    };
    // A name of the bridge's tenant: the broker's tenant checks then apply to its calls and exposers.
    const base = `${options.brokerName.replaceAll('.', '_')}-mqtt-${globalThis.crypto.randomUUID().slice(0, 8)}`;
    const name = options.tenant === '.' ? base : `${base}.${options.tenant}`;
    this.local = component(`ws://in-process:0/${encodeURIComponent(name)}`, {
      logger: log,
      dial: () => {
        const [mine, broker] = memoryLinkPair([`in-process:${name}`, `in-process:${options.brokerName}`]);
        options.attach(broker);
        return Promise.resolve(mine);
      },
    });
    for (const method of options.methods) this.local.expose(method, (...args: unknown[]) => this.callMqtt(method, args));
  }

  /** The MQTT filters to subscribe after each CONNACK. */
  get filters(): string[] {
    return [this.topics.replyTopic, this.topics.requestTopic('+'), `${this.options.prefix}/direct/#`];
  }

  /** Does `topic` belong to RPC? Then {@link onMessage} handles it. */
  isRpc(topic: string): boolean {
    return this.topics.isReserved(topic);
  }

  onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    const props = packet.properties ?? {};
    const correlation = props.correlationData;
    if (topic === this.topics.replyTopic) {
      this.pending.onResponse(payload, { correlationData: correlation });
      return;
    }
    const { responseTopic } = props;
    if (responseTopic === undefined || correlation === undefined) return;
    const key = `${responseTopic} ${Buffer.from(correlation).toString('hex')}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > SEEN_CAPACITY) this.seen.delete(this.seen.values().next().value!);
    const parsed = this.parse(topic);
    if (parsed === undefined) return;
    let args: unknown[];
    try {
      args = decodeArgs(payload);
    } catch (err) {
      this.options.log.debug({ topic, err: errorText(err) }, 'MQTT request not JSON: left to MQTT exposers');
      return;
    }
    const answer = (status: number, data: unknown): void => {
      let text: string;
      try {
        text = encodeResponse(status, data);
      } catch (err) {
        text = encodeResponse(STATUS.METHOD_EXCEPTION, errorText(err));
      }
      this.publish(responseTopic, text, { correlationData: correlation });
    };
    this.local.call(parsed.method, args, parsed.target === undefined ? {} : { target: parsed.target }).then(
      (result) => answer(STATUS.OK, result ?? null),
      (err: unknown) => {
        const status = err instanceof MethodNotFoundError ? STATUS.METHOD_NOT_FOUND
          : err instanceof RpcError ? err.remoteCode : STATUS.METHOD_EXCEPTION;
        if (NOT_HERE.has(status)) return;
        answer(status, err instanceof RpcError ? err.details : errorText(err));
      },
    );
  }

  private parse(topic: string): { method: string; target?: string } | undefined {
    const rpc = this.topics.requestTopic('');
    if (topic.startsWith(rpc)) return { method: topic.slice(rpc.length) };
    const direct = `${this.options.prefix}/direct/`;
    const rest = topic.startsWith(direct) ? topic.slice(direct.length) : '';
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return undefined;
    return { target: rest.slice(0, slash), method: rest.slice(slash + 1) };
  }

  private async callMqtt(method: string, args: unknown[]): Promise<unknown> {
    if (!this.options.v5()) throw new Error(`MQTT link down or not MQTT 5: '${method}' cannot be called`);
    const resp = await firstValueFrom(this.pending.request$(this.topics.requestTopic(method), args,
      this.topics.replyTopic, this.publish).pipe(rxTimeout(this.options.requestTimeout)));
    if (resp.status === STATUS.OK) return resp.data;
    throw new Error(`MQTT exposer of '${method}' answered ${resp.status}: ${JSON.stringify(resp.data)}`);
  }

  /** Fail the calls in flight to MQTT (link lost). */
  linkLost(): void {
    this.pending.failAll(new Error('MQTT link lost'));
  }

  async close(): Promise<void> {
    this.pending.failAll(new Error('MQTT bridge closed'));
    await this.local.close();
  }
}
