/**
 * The broker's contract check at ingest (`broker({ contracts })`): a publish whose topic fits a
 * contract's pattern must carry a value that fits its schema. One that does not is not logged,
 * routed or stored: a QoS1/2 publisher that asked for refusal notices hears so at once
 * (`"invalid (<issues>): <topic>"`, src/protocol/refusals.ts; others time out as for any refused
 * publish, spec §4.2), a QoS0 one is dropped; both are counted, and republished on the
 * broker's dead-letter topic when it has one (as a publish of its publisher: src/broker/dead-letter.ts). Schemas must answer
 * synchronously here: a publish met by an async schema is refused. Pure: no I/O.
 */
import { INVALID_REASON } from '../protocol/refusals.js';
import { ContractAsyncError, issuesText } from './errors.js';
import { paramsOf } from './params.js';
import type { TopicContract } from './topic.js';

/** Counters of the ingest check. */
export interface IngestStats {
  /** Publishes that fit a contract's pattern and were checked. */
  readonly checked: number;
  /** QoS1/2 publishes refused (not acknowledged). */
  readonly refused: number;
  /** QoS0 publishes dropped. */
  readonly dropped: number;
}

/**
 * @typeParam P who published a checked publish, passed through to `onInvalid` untouched (the
 * broker's dead letters go to the publisher's tenant, src/broker/dead-letter.ts)
 */
export class ContractIngest<P = unknown> {
  /** Contracts by segment count: a topic is only tried against patterns of its length. */
  private readonly byLength = new Map<number, TopicContract[]>();
  private counts = { checked: 0, refused: 0, dropped: 0 };

  /**
   * @param contracts checked in order: the first whose pattern a topic fits decides
   * @param onInvalid told of every refused or dropped publish and its publisher (the broker's dead-letter topic)
   */
  constructor(contracts: readonly TopicContract[],
    private readonly onInvalid?: (topic: string, reason: string, args: readonly unknown[], by: P | undefined) => void) {
    for (const c of contracts) {
      const n = c.compiled.segments.length;
      const list = this.byLength.get(n) ?? [];
      list.push(c);
      this.byLength.set(n, list);
    }
  }

  /** The contract for `topic`: the first, in the given order, whose pattern it fits. */
  contractFor(topic: string): TopicContract | undefined {
    let n = 1;
    for (let i = topic.indexOf('/'); i !== -1; i = topic.indexOf('/', i + 1)) n++;
    return this.byLength.get(n)?.find((c) => paramsOf(c.compiled, topic) !== undefined);
  }

  /**
   * Check one publish: undefined when it may pass (no contract, or it fits), else the refusal
   * reason (`invalid (<issues>)`), counted as refused (`qos` 1/2) or dropped (0).
   * @param by who published it, passed to `onInvalid`
   */
  check(topic: string, args: () => readonly unknown[], qos: number, by?: P): string | undefined {
    const contract = this.contractFor(topic);
    if (contract === undefined) return undefined;
    this.counts.checked++;
    const values = args();
    const value = values.length === 1 ? values[0] : values;
    const result = contract.schema['~standard'].validate(value);
    const problem = result instanceof Promise ? (void result.catch(() => undefined), new ContractAsyncError(contract.pattern, 'refused at the broker').message)
      : result.issues === undefined ? undefined : issuesText(result.issues);
    if (problem === undefined) return undefined;
    if (qos === 0) this.counts.dropped++;
    else this.counts.refused++;
    const reason = `${INVALID_REASON} (${problem.replaceAll(/[()]/g, '')})`;
    this.onInvalid?.(topic, reason, values, by);
    return reason;
  }

  stats(): IngestStats {
    return { ...this.counts };
  }
}
