/** HTTP answers of the HTTP room. */
import { toJson } from './json.js';

/** An answer to write. */
export interface HttpReply {
  status: number; body?: string | Uint8Array; type?: string; headers?: Record<string, string>;
  /** Close the connection after this answer without resetting it (a body refused mid-way: server.ts `lingerClose`). */
  linger?: boolean;
}

export const json = (status: number, value: unknown): HttpReply => ({ status, body: toJson(value), type: 'application/json' });

export function unauthorized(message: string): HttpReply {
  return { ...json(401, { error: message }), headers: { 'WWW-Authenticate': 'Basic realm="rembus", charset="UTF-8"' } };
}
