/**
 * QoS0 publishes across the cluster, over core NATS: each goes once to `rembus.<c>.m0.<topic>`
 * (subject.ts) with the publisher's CBOR args as the body; the connection is `noEcho`, so every
 * *other* broker gets it and routes it to its own subscribers, logged, never sent on. With
 * isolated tenants the publisher's name rides along (header `o`).
 */
import type { Subscription } from 'rxjs';
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { Published } from '../broker/types.js';
import { errorText } from '../internal/logger.js';
import type { ClusterHost } from './cluster-host.js';
import { DEFAULT_INTEREST_LIMIT, NatsInterest } from './interest.js';
import { argsOf, encodeArgs } from './message-body.js';
import { subjectToTopic, topicToSubject } from './subject.js';
import type { ClusterOptions } from './types.js';

export class CorePublishes {
  private readonly outbound: Subscription;
  private readonly interest: NatsInterest | undefined;

  constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost, private readonly prefix: string,
    options: ClusterOptions) {
    // Every QoS0 publish of the cluster, or only those of the topics subscribed here (interest.ts).
    if (options.interest === 'subscribed') {
      this.interest = new NatsInterest(nc, `${prefix}.m0`, host, options.interestLimit ?? DEFAULT_INTEREST_LIMIT, (m) => this.inbound0(m));
    } else nc.subscribe(`${prefix}.m0.>`, { callback: (err, m) => { if (err === null) this.inbound0(m); } });
    this.outbound = host.messages$.subscribe((p) => this.forward0(p));
  }

  private forward0(p: Published): void {
    if ((p.flags & 0x30) !== 0 || p.origin.startsWith('cluster:') || this.nc.isClosed()) return;
    let body: Uint8Array;
    try {
      body = p.argsBytes ?? encodeArgs(p.args);
    } catch (err) {
      this.host.log.debug({ topic: p.topic, err: errorText(err) }, 'publish not sent to the cluster');
      return;
    }
    // With isolated tenants the other brokers deliver it to its publisher's tenant only (none: the broker's own).
    const publisher = p.publisher;
    if (typeof publisher !== 'string') return this.nc.publish(topicToSubject(`${this.prefix}.m0`, p.topic), body);
    const h = headers();
    h.set('o', publisher);
    this.nc.publish(topicToSubject(`${this.prefix}.m0`, p.topic), body, { headers: h });
  }

  private inbound0(m: Msg): void {
    const topic = subjectToTopic(`${this.prefix}.m0`, m.subject);
    if (topic === undefined) return;
    const args = argsOf(topic, m.data, this.host.log);
    if (args === undefined) return;
    const h = m.headers;
    this.host.inject({ type: 'pub', flags: 0, topic, args }, 'cluster:', null, h?.has('o') === true ? h.get('o') : undefined);
  }

  close(): void {
    this.outbound.unsubscribe();
    this.interest?.close();
  }
}
