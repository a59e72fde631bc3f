/**
 * Where RPC travels on MQTT. Pure. With the default prefix `rembus`:
 *
 * | topic | who subscribes | carries |
 * |---|---|---|
 * | `rembus/rpc/<method>` | every exposer, as `$share/<group>/rembus/rpc/<method>` | requests |
 * | `rembus/direct/<name>/<method>` | component `<name>`, as `rembus/direct/<name>/#` | direct requests (`target`) |
 * | `rembus/reply/<name>` | component `<name>` | responses |
 *
 * A request carries the caller's reply topic as MQTT 5 Response Topic and 8 random bytes as
 * Correlation Data, which the response echoes. These three subtrees are kept out of Pub/Sub:
 * publishing there, or subscribing a pattern that can only match there, is refused, and a broad
 * pattern (`**`) never delivers their traffic.
 */

/** The RPC topics of one component. */
export interface RpcTopics {
  /** Where this component's responses arrive: `<prefix>/reply/<clientId>`. */
  readonly replyTopic: string;
  /** What this component subscribes for direct requests: `<prefix>/direct/<clientId>/#`. */
  readonly directFilter: string;
  /** Where a request for `method` is published. */
  requestTopic(method: string): string;
  /** Where a direct request for `method` at component `target` is published. */
  directTopic(target: string, method: string): string;
  /** The filter an exposer of `method` subscribes: shared in `group` when one is given. */
  methodFilter(method: string, group: string | undefined): string;
  /** The method of a request that arrived on {@link directFilter}. */
  directMethod(topic: string): string;
  /** Whether a topic, or a filter's literal start, lies in an RPC subtree. */
  isReserved(topicOrFilter: string): boolean;
}

/**
 * The RPC topic layout of a component, e.g. for a plain MQTT client that calls or serves Rembus
 * methods: publish `[args…]` as JSON on `requestTopic(method)` with a Response Topic and
 * Correlation Data; answer `{ "sts": 0, "data": result }` on the request's Response Topic.
 *
 * @example
 * ```ts
 * import { rpcTopics } from 'rembus/mqtt';
 * const topics = rpcTopics('rembus', 'sensor-1');
 * topics.requestTopic('add');                 // 'rembus/rpc/add'
 * topics.methodFilter('add', 'rembus');       // '$share/rembus/rembus/rpc/add'
 * topics.replyTopic;                          // 'rembus/reply/sensor-1'
 * ```
 * @param prefix - First level(s) of every RPC topic (`MqttComponentOptions.rpcPrefix`, default `rembus`).
 * @param clientId - The MQTT client id (the component name, or a random UUID).
 * @returns The layout.
 * @throws Never (the component validates both strings first).
 * @see mqttComponent
 */
export function rpcTopics(prefix: string, clientId: string): RpcTopics {
  const rpc = `${prefix}/rpc/`;
  const direct = `${prefix}/direct/`;
  const reply = `${prefix}/reply/`;
  const ownDirect = `${direct}${clientId}/`;
  return {
    replyTopic: `${reply}${clientId}`,
    directFilter: `${ownDirect}#`,
    requestTopic: (method) => `${rpc}${method}`,
    directTopic: (target, method) => `${direct}${target}/${method}`,
    methodFilter: (method, group) => (group === undefined ? `${rpc}${method}` : `$share/${group}/${rpc}${method}`),
    directMethod: (topic) => topic.slice(ownDirect.length),
    isReserved: (t) => t.startsWith(rpc) || t.startsWith(direct) || t.startsWith(reply),
  };
}
