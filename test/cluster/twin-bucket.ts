/**
 * A single-node nats-server with JetStream for one cluster test file, and a client of it that
 * reads what the brokers share in KV (twin records): started before the file's tests, closed
 * after them.
 */
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll } from 'vitest';
import { twinKey, type SharedTwin } from '../../src/cluster/twin-kv.js';
import { waitFor } from '../integration/helpers.js';
import { startNats, type NatsCluster } from './nats.js';

export interface TwinBucket {
  /** The nats-server's URLs, for `broker({ cluster: { servers } })`. */
  readonly urls: string[];
  /** The twin record of `cid` in cluster `cluster`'s bucket. */
  record(cluster: string, cid: string): Promise<SharedTwin | undefined>;
  /** Wait until the twin's record was written by a broker that saw it go offline. */
  offlineIn(cluster: string, cid: string): Promise<void>;
}

export function useTwinBucket(): TwinBucket {
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    nats = await startNats(1);
    nc = await natsConnect({ servers: nats.urls });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await nats?.close();
  });
  const record = async (cluster: string, cid: string): Promise<SharedTwin | undefined> => {
    const kv = await new Kvm(nc!).open(`REMBUS_${cluster}_TWINS`);
    const e = await kv.get(twinKey(cid));
    return e === null || e.operation !== 'PUT' ? undefined : e.json<SharedTwin>();
  };
  return {
    get urls() { return nats!.urls; },
    record,
    offlineIn: (cluster, cid) => waitFor(async () => (await record(cluster, cid))?.on === false,
      { timeout: 8_000, interval: 20, what: `${cid} offline in KV` }),
  };
}
