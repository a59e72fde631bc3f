/**
 * Errors of typed contracts. Each has a stable `code`; `issues` are the schema library's own
 * (Standard Schema `Issue`: a message and a path).
 */
import { RembusError, UnauthorizedError } from '../errors.js';
import { INVALID_REASON } from '../protocol/refusals.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** Where a value failed its contract. */
export type ContractStage = 'publish' | 'receive' | 'args' | 'result';

/**
 * A value does not fit its contract's schema: before a publish or a call (nothing was sent),
 * on receipt (never delivered: reported on `invalid$`), or a handler's result.
 */
export class ContractValidationError extends RembusError {
  readonly code = 'CONTRACT_INVALID';
  constructor(readonly contract: string, readonly stage: ContractStage, readonly issues: readonly StandardSchemaV1.Issue[],
    readonly value: unknown, options?: ErrorOptions) {
    super(`${stage} value does not fit contract '${contract}': ${issuesText(issues)}`, options);
    this.name = 'ContractValidationError';
  }
}

/** The topic parameters of a contract publish are missing or not one topic segment each. */
export class ContractParamsError extends RembusError {
  readonly code = 'CONTRACT_PARAMS';
  constructor(readonly contract: string, readonly param: string, reason: string, options?: ErrorOptions) {
    super(`parameter '${param}' of '${contract}': ${reason}`, options);
    this.name = 'ContractParamsError';
  }
}

/** The schema validates asynchronously where only a synchronous answer will do (`publish`, the broker). */
export class ContractAsyncError extends RembusError {
  readonly code = 'CONTRACT_ASYNC';
  constructor(readonly contract: string, where: string, options?: ErrorOptions) {
    super(`the schema of '${contract}' validates asynchronously: ${where}`, options);
    this.name = 'ContractAsyncError';
  }
}

/**
 * A TS broker refused an acknowledged (QoS1/2) publish because it does not fit the broker's
 * contract for its topic (`broker({ contracts })`, src/protocol/refusals.ts). `reason` is the
 * broker's text (the schema's issues).
 */
export class ContractRefusedError extends RembusError {
  readonly code = 'CONTRACT_REFUSED';
  constructor(readonly topic: string, readonly reason: string, options?: ErrorOptions) {
    super(`publish on '${topic}' refused by the broker: ${reason}`, options);
    this.name = 'ContractRefusedError';
  }
}

/** `path: message; …` of Standard Schema issues (at most five). */
export function issuesText(issues: readonly StandardSchemaV1.Issue[]): string {
  const shown = issues.slice(0, 5).map((i) => {
    const path = (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    return path === '' ? i.message : `${path}: ${i.message}`;
  });
  return shown.join('; ') + (issues.length > 5 ? `; … (${issues.length} issues)` : '');
}

/** The error of a refusal notice `data` (src/protocol/refusals.ts): a contract's or an authorization's. */
export function refusalError(topic: string, data: string): RembusError {
  return data.startsWith(`${INVALID_REASON} `) || data.startsWith(`${INVALID_REASON}:`)
    ? new ContractRefusedError(topic, data) : new UnauthorizedError(topic, data);
}
