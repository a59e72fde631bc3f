/**
 * The component side of contracts: subscribe, publish, call and expose through a contract on
 * top of a component's string API. Values are checked on the way out (nothing is sent when
 * they do not fit) and on the way in (never delivered as the wrong type: counted and reported
 * on `invalid$`, see violations.ts). The wire carries the schema's *input* form (one publish
 * argument; the call's positional arguments), so PY/JL peers read and write it unchanged.
 */
import { concatMap, defer, EMPTY, from, isObservable, map, of, share, throwError, type Observable } from 'rxjs';
import type { PublishOptions } from '../component/publish-options.js';
import type { CallOptions, Handler, Message, QoS, SubscribeOptions } from '../types.js';
import { ContractAsyncError, ContractValidationError } from './errors.js';
import type { MethodContract } from './method.js';
import { paramsOf, topicOf, type Params } from './params.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { TopicContract, TopicInput, TopicValue } from './topic.js';
import { check, check$, type AnySchema, type Checked } from './validate.js';
import type { Violations } from './violations.js';

/** One delivered publish of a topic contract. */
export interface ContractMessage<C extends TopicContract = TopicContract> {
  /** The parameters read from the topic. */
  readonly params: Params<C['pattern']>;
  /** The value, validated: the schema's output. */
  readonly value: TopicValue<C>;
  /** The concrete topic. */
  readonly topic: string;
  /** The contract's pattern. */
  readonly pattern: C['pattern'];
  readonly qos: QoS;
  readonly slot?: number;
}

/** The string API a contract needs from a component. */
export interface ContractHost {
  subscribe$(pattern: string, options?: SubscribeOptions): Observable<Message>;
  publish(topic: string, ...args: unknown[]): void;
  publish$(topic: string, args?: unknown[], options?: PublishOptions): Observable<void>;
  call$<R>(method: string, args: unknown[], options?: CallOptions): Observable<R>;
  expose(method: string, handler: Handler, options?: { context?: boolean }): () => void;
}

/** The one value of a publish: its single argument, else the argument list (PY/JL positional publishes). */
function valueOf(args: readonly unknown[]): unknown {
  return args.length === 1 ? args[0] : args;
}

/** The shared, validated stream of `contract` (one per component and contract). */
export function subscribeContract$<C extends TopicContract>(host: ContractHost, violations: Violations,
  cache: WeakMap<TopicContract, Observable<ContractMessage>>, contract: C, options?: SubscribeOptions): Observable<ContractMessage<C>> {
  let stream = cache.get(contract);
  if (stream === undefined) {
    const { compiled, schema, pattern } = contract;
    stream = host.subscribe$(compiled.subscription, options).pipe(
      concatMap((m) => {
        const value = valueOf(m.args);
        const params = paramsOf(compiled, m.topic);
        if (params === undefined) {
          violations.report(new ContractValidationError(pattern, 'receive', [{ message: `topic '${m.topic}' does not fit '${pattern}'` }], value), m.topic);
          return EMPTY;
        }
        return check$(schema, value).pipe(concatMap((c) => {
          if (c.ok) return of(contractMessage(params, c.value, m, pattern));
          violations.report(new ContractValidationError(pattern, 'receive', c.issues, value), m.topic);
          return EMPTY;
        }));
      }),
      share({ resetOnRefCountZero: true, resetOnComplete: true, resetOnError: true }),
    );
    cache.set(contract, stream);
  }
  return stream as Observable<ContractMessage<C>>;
}

function contractMessage(params: Record<string, string>, value: unknown, m: Message, pattern: string): ContractMessage {
  const out = { params, value, topic: m.topic, pattern, qos: m.qos };
  return m.slot === undefined ? out : { ...out, slot: m.slot };
}

/**
 * Check and publish with QoS0. Throws at once (nothing sent) when the value does not fit.
 * @throws ContractParamsError, ContractValidationError, ContractAsyncError (use `publish$` for an async schema)
 */
export function publishContract<C extends TopicContract>(host: ContractHost, contract: C, params: Params<C['pattern']>, value: TopicInput<C>): void {
  const topic = topicOf(contract.compiled, params);
  const c = check(contract.schema, value);
  if (c instanceof Promise) throw new ContractAsyncError(contract.pattern, 'publish with publish$ or publishAsync');
  if (!c.ok) throw new ContractValidationError(contract.pattern, 'publish', c.issues, value);
  host.publish(topic, value);
}

/** Cold: check, then `publish$` (QoS and the other options passed through). */
export function publishContract$<C extends TopicContract>(host: ContractHost, contract: C, params: Params<C['pattern']>,
  value: TopicInput<C>, options?: PublishOptions): Observable<void> {
  return defer(() => {
    const topic = topicOf(contract.compiled, params);
    return check$(contract.schema, value).pipe(concatMap((c) => c.ok ? host.publish$(topic, [value], options)
      : throwError(() => new ContractValidationError(contract.pattern, 'publish', c.issues, value))));
  });
}

/** The arguments of a call checked against `contract.args`: their outputs, or the issues. */
export function checkArgs(contract: MethodContract, args: readonly unknown[]): Checked<unknown[]> | Promise<Checked<unknown[]>> {
  const schemas: readonly AnySchema[] = Array.isArray(contract.args) ? contract.args : [contract.args as AnySchema];
  if (args.length !== schemas.length) {
    return { ok: false, issues: [{ message: `expected ${schemas.length} argument(s), got ${args.length}` }] };
  }
  const each = schemas.map((s, i) => check(s, args[i]));
  const merge = (results: Checked<unknown>[]): Checked<unknown[]> => {
    const issues = results.flatMap((r, i) => r.ok ? [] : r.issues.map((issue) => ({ ...issue, path: [i, ...(issue.path ?? [])] })));
    return issues.length > 0 ? { ok: false, issues } : { ok: true, value: results.map((r) => (r as { value: unknown }).value) };
  };
  return each.some((r) => r instanceof Promise) ? Promise.all(each).then(merge) : merge(each as Checked<unknown>[]);
}

/** Cold: check the arguments (nothing sent if they do not fit), call, check each answer. */
export function callContract$<M extends MethodContract>(host: ContractHost, violations: Violations, contract: M,
  args: readonly unknown[], options?: CallOptions): Observable<StandardSchemaV1.InferOutput<M['result']>> {
  return defer(() => from(toPromiseOrValue(checkArgs(contract, args)))).pipe(
    concatMap((c) => c.ok ? host.call$<unknown>(contract.name, [...args], options)
      : throwError(() => new ContractValidationError(contract.name, 'args', c.issues, args))),
    concatMap((answer) => check$(contract.result, answer).pipe(map((c) => {
      if (c.ok) return c.value;
      const err = new ContractValidationError(contract.name, 'result', c.issues, answer);
      violations.report(err, contract.name);
      throw err;
    }))),
  );
}

function toPromiseOrValue<T>(value: T | Promise<T>): Promise<T> | [T] {
  return value instanceof Promise ? value : [value];
}

/**
 * Expose `handler` under `contract`: arguments that do not fit are refused (the caller gets
 * `RpcError` 40 naming the issues; counted on `invalid$`); a result that does not fit fails the
 * call the same way rather than reach the caller.
 */
export function exposeContract(host: ContractHost, violations: Violations, contract: MethodContract, handler: Handler,
  options: { context?: boolean } = {}): () => void {
  const serve: Handler = (...raw: unknown[]) => {
    const ctx = options.context === true ? raw.splice(-1, 1) : [];
    const run = (c: Checked<unknown[]>): unknown => {
      if (!c.ok) {
        const err = new ContractValidationError(contract.name, 'args', c.issues, raw);
        violations.report(err, contract.name);
        throw err;
      }
      return checkedResult(contract, handler(...c.value, ...ctx));
    };
    const args = checkArgs(contract, raw);
    return args instanceof Promise ? args.then(run) : run(args);
  };
  return host.expose(contract.name, serve, options);
}

function checkedResult(contract: MethodContract, result: unknown): unknown {
  const one = (v: unknown): unknown => {
    const c = check(contract.result, v);
    const settle = (r: Checked<unknown>): unknown => {
      if (!r.ok) throw new ContractValidationError(contract.name, 'result', r.issues, v);
      return v;
    };
    return c instanceof Promise ? c.then(settle) : settle(c);
  };
  if (isObservable(result)) return result.pipe(concatMap((v) => from(Promise.resolve(one(v)))));
  if (result instanceof Promise) return result.then(one);
  return one(result);
}
