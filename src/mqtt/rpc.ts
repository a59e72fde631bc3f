/**
 * RPC over MQTT 5 request/response (MQTT 5 §4.10): the caller's pending map and the exposer's
 * answer. The component owns the MQTT client and hands these functions what they need.
 */
import { Observable } from 'rxjs';
import { DecodeError, MethodNotFoundError, RpcError } from '../errors.js';
import { invokeHandler } from '../internal/invoke.js';
import { errorText } from '../internal/logger.js';
import { STATUS } from '../protocol/messages.js';
import type { Handler, Logger } from '../types.js';
import type { DeliveryProperties } from './filters.js';
import type { MqttSession } from './mqtt-session.js';
import { decodeArgs, decodeResponse, encodeRequest, encodeResponse, type MqttResponse } from './payload.js';

/** Publishes one MQTT message (QoS 0) with MQTT 5 request/response properties. */
export type RpcPublish = (topic: string, payload: string,
  properties: { responseTopic?: string; correlationData?: Uint8Array }) => void;

/** The {@link RpcPublish} of `session`: QoS 0, the properties as MQTT.js takes them. */
export function rpcPublisher(session: Pick<MqttSession, 'publish'>): RpcPublish {
  return (topic, payload, { responseTopic, correlationData }) => {
    // Not connected: the request or response is lost and the call ends in the caller's timeout.
    session.publish(topic, payload, {
      qos: 0,
      properties: {
        ...(responseTopic === undefined ? {} : { responseTopic }),
        ...(correlationData === undefined ? {} : { correlationData: Buffer.from(correlationData) }),
      },
    });
  };
}

interface Pending { reply: (resp: MqttResponse) => void; fail: (err: unknown) => void }

/** The calls of one component waiting for their response, keyed by correlation data (hex). */
export class PendingCalls {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly log: Logger) {}

  /**
   * One request as a cold Observable: publishes on subscribe, emits the response, and drops the
   * pending entry on unsubscribe, so that a late response is ignored.
   * @throws EncodeError (as an error notification) for arguments JSON cannot carry.
   */
  request$(topic: string, args: readonly unknown[], replyTopic: string, publish: RpcPublish): Observable<MqttResponse> {
    return new Observable<MqttResponse>((subscriber) => {
      const payload = encodeRequest(args);
      let correlation: Uint8Array;
      let key: string;
      do {
        correlation = crypto.getRandomValues(new Uint8Array(8));
        key = toHex(correlation);
      } while (this.pending.has(key));
      this.pending.set(key, {
        reply: (resp) => { subscriber.next(resp); subscriber.complete(); },
        fail: (err) => subscriber.error(err),
      });
      publish(topic, payload, { responseTopic: replyTopic, correlationData: correlation });
      return () => { this.pending.delete(key); };
    });
  }

  /** Settle the call a response is for. With several exposers only the first answer counts. */
  onResponse(payload: Uint8Array, properties: DeliveryProperties): void {
    const key = properties.correlationData === undefined ? undefined : toHex(properties.correlationData);
    const pending = key === undefined ? undefined : this.pending.get(key);
    if (pending === undefined) {
      this.log.debug({ correlation: key }, 'response to no pending call dropped');
      return;
    }
    this.pending.delete(key!);
    try {
      pending.reply(decodeResponse(payload));
    } catch (err) {
      pending.fail(err instanceof DecodeError ? err : new DecodeError(errorText(err), { cause: err }));
    }
  }

  /** Fail every pending call (link lost, component closed). */
  failAll(err: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.fail(err);
  }
}

/**
 * Serve one request: run the handler and publish `{ sts, data }` to the request's Response
 * Topic with its Correlation Data. No handler → 42 with the method as data (spec §2.5); the
 * handler threw → 40 with the error text; a payload that is not JSON → 10. A request without a
 * Response Topic is run and not answered.
 */
export function serveRequest(method: string, handler: Handler | undefined, payload: Uint8Array,
  properties: DeliveryProperties, publish: RpcPublish): void {
  const { responseTopic, correlationData } = properties;
  const reply = (status: number, data: unknown): void => {
    if (responseTopic === undefined) return;
    let text: string;
    try {
      text = encodeResponse(status, data);
    } catch (err) {
      text = encodeResponse(STATUS.METHOD_EXCEPTION, errorText(err));
    }
    publish(responseTopic, text, correlationData === undefined ? {} : { correlationData });
  };
  if (handler === undefined) return reply(STATUS.METHOD_NOT_FOUND, method);
  let args: unknown[];
  try {
    args = decodeArgs(payload);
  } catch (err) {
    return reply(STATUS.ERROR, errorText(err));
  }
  invokeHandler(handler, args).then(
    (result) => reply(STATUS.OK, result ?? null),
    (err: unknown) => reply(STATUS.METHOD_EXCEPTION, errorText(err)),
  );
}

/** Map a response to its result, or throw the typed error its status stands for (spec §2.5). */
export function rpcResult(method: string, resp: MqttResponse): unknown {
  if (resp.status === STATUS.OK) return resp.data;
  if (resp.status === STATUS.METHOD_NOT_FOUND) throw new MethodNotFoundError(method);
  throw new RpcError(method, resp.status, resp.data);
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
