/**
 * A publish's args as the body of a cluster message, and back: CBOR with records off, so every
 * broker of the cluster reads what another wrote.
 */
import { Decoder, Encoder } from 'cbor-x';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';

const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

/** @throws whatever cbor-x throws for a value it cannot encode */
export function encodeArgs(args: unknown): Uint8Array {
  return encoder.encode(args);
}

/** A cluster message's args; undefined (logged) when they do not decode. */
export function argsOf(topic: string, data: Uint8Array, log: Logger): unknown[] | undefined {
  try {
    return decoder.decode(data) as unknown[];
  } catch (err) {
    log.warn({ topic, err: errorText(err) }, 'cluster message dropped');
    return undefined;
  }
}
