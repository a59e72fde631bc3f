import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';

/** An error reduced to what marble tests compare: its `name` and `message` (no stack). */
interface ComparableError {
  name: string;
  message: string;
}

function comparableError(error: unknown): unknown {
  return error instanceof Error ? ({ name: error.name, message: error.message } satisfies ComparableError) : error;
}

function isNotification(value: unknown): value is { kind: 'N' | 'E' | 'C'; value?: unknown; error?: unknown } {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/**
 * Map a TestScheduler log (`{ frame, notification: { kind, value, error } }[]`, or a
 * subscription log) to a form where errors are compared by `name` and `message` only.
 * Materialized inner observables (arrays of messages as `N` values) are mapped recursively.
 */
function normalize(log: unknown): unknown {
  if (!Array.isArray(log)) return log;
  return log.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || !('notification' in entry)) return entry;
    const { notification } = entry;
    if (!isNotification(notification)) return entry;
    if (notification.kind === 'E') {
      return { ...entry, notification: { ...notification, error: comparableError(notification.error) } };
    }
    if (notification.kind === 'N' && Array.isArray(notification.value)) {
      return { ...entry, notification: { ...notification, value: normalize(notification.value) } };
    }
    return entry;
  });
}

/**
 * A `TestScheduler` asserting with vitest's `toEqual`, comparing errors by `name` and
 * `message` so an expected `new QueueFullError(3)` matches the emitted one despite its stack.
 */
export function createScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(normalize(actual)).toEqual(normalize(expected));
  });
}
