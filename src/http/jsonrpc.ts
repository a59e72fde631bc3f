/**
 * JSON-RPC 2.0 over `POST /` (Rembus.jl `http_jsonrpc`): a request with an `id` is an RPC whose
 * `params` array is the argument list (an object is one argument, spec §2.8 TS decision);
 * without an `id` it is a notification, published on `method` as a topic. Batches (arrays)
 * are answered with an array of the answers to their requests; all-notification batches and
 * single notifications with 204.
 */
import { newMsgId } from '../codec/msgid.js';
import { STATUS } from '../protocol/messages.js';
import { parseJson } from './json.js';
import { json, type HttpReply } from './reply.js';
import { withSession, type RestContext } from './rest.js';
import type { HttpSession } from './session.js';

/**
 * Requests in one batch; a longer one is refused whole (-32600). Each call of a batch waits on
 * the request's one session, so a body's worth of calls (~220,000 in 8 MiB) held the broker's
 * memory and CPU for minutes on behalf of one request (test/integration/edges-http.test.ts).
 */
export const MAX_BATCH = 1_000;

/** JSON-RPC error codes used here (JL answers -32000 for every failure). */
export const JSONRPC = { PARSE: -32700, INVALID: -32600, NOT_FOUND: -32601, SERVER: -32000 } as const;

type Id = string | number | null;
type Answer = { jsonrpc: '2.0'; id: Id; result?: unknown; error?: { code: number; message: string; data?: unknown } };

const failure = (id: Id, code: number, message: string, data?: unknown): Answer =>
  ({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });

export async function jsonRpc(ctx: RestContext, body: string): Promise<HttpReply> {
  let packet: unknown;
  try {
    packet = parseJson(body);
  } catch (err) {
    return json(200, failure(null, JSONRPC.PARSE, `invalid JSON: ${(err as Error).message}`));
  }
  if (Array.isArray(packet) && packet.length === 0) return json(200, failure(null, JSONRPC.INVALID, 'empty batch'));
  if (Array.isArray(packet) && packet.length > MAX_BATCH) {
    return json(200, failure(null, JSONRPC.INVALID, `batch of ${packet.length} requests: at most ${MAX_BATCH}`));
  }
  return withSession(ctx, ctx.identity, async (session) => {
    if (!Array.isArray(packet)) {
      const one = await evaluate(session, packet);
      return one === undefined ? { status: 204 } : json(200, one);
    }
    const answers = (await Promise.all(packet.map((p) => evaluate(session, p)))).filter((a) => a !== undefined);
    return answers.length === 0 ? { status: 204 } : json(200, answers);
  });
}

async function evaluate(session: HttpSession, request: unknown): Promise<Answer | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return failure(null, JSONRPC.INVALID, 'a request must be an object');
  }
  const r = request as Record<string, unknown>;
  const id = typeof r['id'] === 'string' || typeof r['id'] === 'number' ? r['id'] : null;
  if (r['jsonrpc'] !== '2.0' || typeof r['method'] !== 'string' || r['method'] === '') {
    return failure(id, JSONRPC.INVALID, 'not a JSON-RPC 2.0 request (jsonrpc "2.0" and a method are needed)');
  }
  const params = r['params'];
  const args = params === undefined || params === null ? [] : Array.isArray(params) ? params : [params];
  if (!('id' in r)) {
    session.send({ type: 'pub', flags: 0, topic: r['method'], args });
    return undefined;
  }
  const reply = await session.request({ type: 'rpc', id: newMsgId(), topic: r['method'], target: null, args }, r['method'])
    .catch((err: unknown) => ({ status: STATUS.ERROR, data: (err as Error).message }));
  if (reply.status === STATUS.OK) return { jsonrpc: '2.0', id, result: reply.data ?? null };
  if (reply.status === STATUS.METHOD_NOT_FOUND) return failure(id, JSONRPC.NOT_FOUND, `method not found: ${r['method']}`);
  return failure(id, JSONRPC.SERVER, typeof reply.data === 'string' ? reply.data : `status ${reply.status}`,
    { status: reply.status, details: reply.data });
}
