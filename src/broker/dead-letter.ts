/**
 * The broker's dead-letter topic (`broker({ contracts, deadLetter })`): a publish a contract
 * refused or dropped is republished there as `{ topic, reason, args }`. The letter carries the
 * refused value, so it is its publisher's, not the broker's own: with isolated tenants it is
 * routed, logged (for replay) and handed to the bridges as a publish of that name, reaching that
 * tenant's dead-letter subscribers only (guard.ts `receivers`, `replayable`). A letter of the
 * broker's own (null, or no publisher given) reaches every tenant, as any of its publishes does.
 */
import { publisherName, type Publisher } from './guard.js';
import type { PublishPath } from './publish-path.js';

/** What {@link ContractIngest} is told of each refused publish: its topic, why, its args and who published it. */
export type DeadLetterSink = (topic: string, reason: string, args: readonly unknown[], by: Publisher | undefined) => void;

/**
 * The sink that republishes refused publishes on `deadLetter` as their publisher's.
 * @param publishes the broker's publish path (read at the first letter: it is built after the ingest check)
 */
export function deadLetters(deadLetter: string, publishes: () => PublishPath): DeadLetterSink {
  return (topic, reason, args, by) => {
    const publisher = publisherName(by ?? null);
    publishes().accept(null, { type: 'pub', flags: 0, topic: deadLetter, args: [{ topic, reason, args }] }, null, '',
      undefined, publisher ?? undefined);
  };
}
