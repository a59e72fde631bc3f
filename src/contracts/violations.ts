/**
 * Values that failed their contract on arrival at a component: never delivered as the wrong
 * type, each counted and reported on the component's `invalid$` (a hot stream: subscribe before
 * the traffic you want to watch). A dead letter is then the application's choice:
 * `node.invalid$.subscribe((v) => node.publish('dead/letters', v.topic, v.value))`.
 */
import { Subject, type Observable } from 'rxjs';
import type { ContractStage, ContractValidationError } from './errors.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** One value that failed its contract at this component. */
export interface InvalidValue {
  /** The contract: a topic pattern or a method name. */
  readonly contract: string;
  /** `receive`: a publish; `args`: a call's arguments at the exposer; `result`: an answer at the caller. */
  readonly stage: ContractStage;
  /** The concrete topic or method. */
  readonly topic: string;
  /** The value as received. */
  readonly value: unknown;
  readonly issues: readonly StandardSchemaV1.Issue[];
  /** Invalid values this component has seen so far, this one included. */
  readonly count: number;
}

/** A component's invalid-value counter and stream. */
export class Violations {
  private readonly subject = new Subject<InvalidValue>();
  /** Invalid values seen so far. */
  count = 0;
  readonly invalid$: Observable<InvalidValue> = this.subject.asObservable();

  report(error: ContractValidationError, topic: string): void {
    this.count++;
    this.subject.next({ contract: error.contract, stage: error.stage, topic, value: error.value, issues: error.issues, count: this.count });
  }

  /** The component closed. */
  complete(): void {
    this.subject.complete();
  }
}
