/**
 * Options of a rembus cluster (`broker({ cluster })`, `rembus broker --cluster nats://…`). Kept
 * free of NATS types: the broker's option types name this file, never the optional peer.
 */

/** Options of `broker({ cluster })`. */
export interface ClusterOptions {
  /** NATS servers of the cluster (`nats://127.0.0.1:4222`, …): the client fails over between them. */
  readonly servers: string | readonly string[];
  /**
   * The cluster's name: brokers with the same name and NATS servers form one logical broker.
   * Subjects live under `rembus.<name>.`, the stream is `REMBUS_<name>`. `[A-Za-z0-9_-]+`.
   * Default `'default'`.
   */
  readonly name?: string;
  /** Replicas of the JetStream stream holding acknowledged publishes (1 on a single NATS server). Default 1. */
  readonly replicas?: number;
  /** How long the stream keeps messages, ms (replay by time reaches this far). Default 86_400_000. */
  readonly maxAge?: number;
  /** JetStream's duplicate window, ms: a QoS2 publish re-sent within it (to any broker) is stored once. Default 120_000. */
  readonly duplicateWindow?: number;
  /** Give up an acknowledged publish (no ACK to the component, which re-sends) after this many ms. Default 5_000. */
  readonly publishTimeout?: number;
  /** Give up a call forwarded to another broker after this many ms. Default the broker's `requestTimeout`. */
  readonly requestTimeout?: number;
  /** How often each broker announces its exposed methods and named components, ms. Default 1_000. */
  readonly advertiseInterval?: number;
  /**
   * Which QoS0 publishes of the other brokers this broker takes from NATS. `'all'` (default):
   * every one (`rembus.<c>.m0.>`), so its log holds every QoS0 message for `msgfrom` replay and
   * its schema tables see every topic. `'subscribed'`: only the topics its own components
   * subscribe to (exact topics, patterns as NATS wildcards; README "Cluster"), so publishes do
   * not cost the brokers that have no subscriber for them.
   */
  readonly interest?: 'all' | 'subscribed';
  /** With `interest: 'subscribed'`: most NATS subscriptions before falling back to all. Default 1_000. */
  readonly interestLimit?: number;
  /** How often changed twins are written to the KV bucket `REMBUS_<name>_TWINS`, ms. Default 50. */
  readonly twinInterval?: number;
  /**
   * How long a joining broker waits, before it serves logins, for the twin records the bucket
   * holds, ms; past it the broker serves (with a warning) and a component that moved there is
   * taken for a new one until its record is in. Default 10_000.
   */
  readonly twinLoadTimeout?: number;
  /**
   * Lease time of the cluster's leader (the one writer of the schema tables), ms: a leader
   * killed with -9 is replaced within about 4/3 of it. Default 3_000.
   */
  readonly leaseTtl?: number;
  /** NATS user credentials, when the NATS servers require them. */
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}
