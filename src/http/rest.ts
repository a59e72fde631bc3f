/**
 * The REST routes of Rembus.jl (src/http.jl `serve_http`), each run through one in-process
 * session logged in as the request's identity:
 *
 * | route | does |
 * |---|---|
 * | `GET /{method}` (body: JSON args) | RPC; 200 + JSON result, 404 unknown method, 403 other failures |
 * | `POST /{topic}` (body: JSON args) | publish (QoS0); 200 |
 * | `GET /admin/{cmd}` | admin command on `__config__` (`broker_config`, …); 200 + JSON data |
 * | `POST /private_topic/{topic}`, `/public_topic/{topic}` | admin |
 * | `POST /authorize/{cid}/{topic}`, `/unauthorize/{cid}/{topic}` | admin |
 * | `POST /subscribe/{topic}/{cid}`, `/unsubscribe/…`, `/expose/…`, `/unexpose/…` | declare for twin `cid` |
 *
 * `{topic}` and `{method}` may hold `/` here (JL matches one segment only).
 */
import { newMsgId } from '../codec/msgid.js';
import { AuthError, RembusError } from '../errors.js';
import { CONFIG_TOPIC, STATUS, type ResponseMsg } from '../protocol/messages.js';
import type { Link } from '../transport/link.js';
import type { HttpIdentity } from './auth.js';
import { argsOfBody } from './json.js';
import { json, unauthorized, type HttpReply } from './reply.js';
import { openSession, type HttpSession } from './session.js';

/** One request's means: the broker's `handle`, who asks, and the call timeout. */
export interface RestContext {
  handle(link: Link): void;
  identity: HttpIdentity;
  requestTimeout: number;
  remote: string;
}

const DECLARE = new Set(['subscribe', 'unsubscribe', 'expose', 'unexpose']);

/** Run `fn` in a session logged in as `identity`; login refusals become 401 (403 for a name taken). */
export async function withSession(ctx: RestContext, identity: HttpIdentity,
  fn: (session: HttpSession) => Promise<HttpReply>): Promise<HttpReply> {
  let session: HttpSession;
  try {
    session = await openSession(ctx.handle, identity, ctx.requestTimeout, ctx.remote);
  } catch (err) {
    if (err instanceof AuthError) {
      // JL: "component … not available for rpc via http" when the name is connected.
      if (err.remoteCode === STATUS.NAME_ALREADY_TAKEN) return json(403, { error: `${identity.name ?? ''} is connected: not available via http` });
      return unauthorized(err.message);
    }
    throw err;
  }
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

export async function rest(ctx: RestContext, method: string, path: string, body: string): Promise<HttpReply> {
  let parts: string[];
  try {
    parts = path.split('/').slice(1).map((p) => decodeURIComponent(p));
  } catch {
    return json(400, { error: 'malformed percent-encoding in the path' });
  }
  const [head = '', ...rest] = parts;
  if (method === 'GET' && head === 'admin' && rest.length === 1) return admin(ctx, ctx.identity, rest[0]!, {}, CONFIG_TOPIC);
  if (method === 'POST') {
    if ((head === 'private_topic' || head === 'public_topic') && rest.length >= 1) {
      return admin(ctx, ctx.identity, head, {}, rest.join('/'));
    }
    if ((head === 'authorize' || head === 'unauthorize') && rest.length >= 2) {
      return admin(ctx, ctx.identity, head, { cid: rest[0]! }, rest.slice(1).join('/'));
    }
    if (DECLARE.has(head) && rest.length >= 2) return declare(ctx, head, rest.slice(0, -1).join('/'), rest[rest.length - 1]!);
  }
  const topic = parts.join('/');
  if (topic === '') return json(404, { error: 'no method or topic in the path' });
  let args: unknown[];
  try {
    args = argsOfBody(body);
  } catch (err) {
    return json(400, { error: `malformed JSON body: ${(err as Error).message}` });
  }
  if (method === 'POST') {
    return withSession(ctx, ctx.identity, async (session) => {
      session.send({ type: 'pub', flags: 0, topic, args });
      return { status: 200 };
    });
  }
  return withSession(ctx, ctx.identity, async (session) =>
    answer(await session.request({ type: 'rpc', id: newMsgId(), topic, target: null, args }, topic)));
}

/** An RPC or admin RESPONSE as HTTP: 200 + data; 404 unknown method; 403 refused or failed (JL). */
export function answer(reply: ResponseMsg): HttpReply {
  if (reply.status === STATUS.OK) return json(200, reply.data);
  if (reply.status === STATUS.METHOD_NOT_FOUND) return json(404, { error: `method not found: ${String(reply.data)}`, status: reply.status });
  return json(403, { error: reply.data, status: reply.status });
}

async function admin(ctx: RestContext, identity: HttpIdentity, cmd: string, fields: Record<string, unknown>,
  topic: string): Promise<HttpReply> {
  // JL authenticate_admin: an anonymous caller cannot be an admin.
  if (identity.name === undefined) return unauthorized('admin commands need a name (Basic authentication)');
  return withSession(ctx, identity, async (session) =>
    answer(await session.request({ type: 'admin', id: newMsgId(), topic, cmd: { ...fields, cmd } }, `admin ${cmd}`)));
}

/** Declare for twin `cid` (JL `command`): the caller must be `cid` itself, or an admin-less anonymous. */
async function declare(ctx: RestContext, cmd: string, topic: string, cid: string): Promise<HttpReply> {
  const { identity } = ctx;
  if (identity.name !== undefined && identity.name !== cid) {
    return json(403, { error: `${identity.name} cannot declare for ${cid}` });
  }
  try {
    return await withSession(ctx, { name: cid, secret: identity.secret }, async (session) =>
      answer(await session.request({ type: 'admin', id: newMsgId(), topic, cmd: { cmd } }, `${cmd} ${topic}`)));
  } catch (err) {
    if (err instanceof RembusError) return json(403, { error: err.message });
    throw err;
  }
}
