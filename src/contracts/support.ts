/**
 * What a component keeps for its contracts: the invalid-value counter and stream, and one
 * shared validated stream per subscribed contract. The component routes every contract call here.
 */
import type { Observable } from 'rxjs';
import type { PublishOptions } from '../component/publish-options.js';
import type { CallOptions, Handler, SubscribeOptions } from '../types.js';
import {
  callContract$, exposeContract, publishContract, publishContract$, subscribeContract$, type ContractHost, type ContractMessage,
} from './client.js';
import type { MethodContract } from './method.js';
import { queryContract$, type ContractQueryOptions } from './query.js';
import type { TopicContract } from './topic.js';
import { Violations, type InvalidValue } from './violations.js';

export class ContractSupport {
  private readonly violations = new Violations();
  private readonly streams = new WeakMap<TopicContract, Observable<ContractMessage>>();
  readonly invalid$: Observable<InvalidValue> = this.violations.invalid$;

  constructor(private readonly host: ContractHost) {}

  /** Invalid values received so far. */
  get invalidCount(): number { return this.violations.count; }

  subscribe$(contract: TopicContract, options?: SubscribeOptions): Observable<ContractMessage> {
    return subscribeContract$(this.host, this.violations, this.streams, contract, options);
  }

  publish(contract: TopicContract, params: Record<string, string>, value: unknown): void {
    publishContract(this.host, contract, params, value);
  }

  publish$(contract: TopicContract, params: Record<string, string>, value: unknown, options?: PublishOptions): Observable<void> {
    return publishContract$(this.host, contract, params, value, options);
  }

  call$(contract: MethodContract, args: readonly unknown[], options?: CallOptions): Observable<unknown> {
    return callContract$(this.host, this.violations, contract, args, options);
  }

  expose(contract: MethodContract, handler: Handler, options?: { context?: boolean }): () => void {
    return exposeContract(this.host, this.violations, contract, handler, options);
  }

  query$(contract: TopicContract, options?: ContractQueryOptions): Observable<unknown> {
    return queryContract$(this.host, contract, options);
  }

  close(): void {
    this.violations.complete();
  }
}
