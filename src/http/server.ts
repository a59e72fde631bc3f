/**
 * HTTP on the broker's listener (the WebSocket upgrade stays on any path): REST as Rembus.jl
 * serves it, JSON-RPC 2.0 on `POST /`, `/metrics`, `/healthz`, `/readyz` and the dashboard
 * at `/`. docs/http.md lists the routes and where this follows or departs from Rembus.jl.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorText } from '../internal/logger.js';
import type { Link } from '../transport/link.js';
import type { Logger } from '../types.js';
import { HttpAuthError, type HttpAuthenticate, type HttpIdentity } from './auth.js';
import { jsonRpc } from './jsonrpc.js';
import { json, unauthorized, type HttpReply } from './reply.js';
import { rest, withSession, type RestContext } from './rest.js';

/** Largest request body read, bytes; a bigger one is answered 413. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** What the HTTP room needs from the broker. */
export interface HttpHost {
  /** Serve one more connection (REST calls log in through it like any client). */
  handle(link: Link): void;
  authenticate: HttpAuthenticate;
  /** Is `cid` an admin (asked once its secret is proven)? */
  isAdmin(cid: string): boolean;
  /** Are tenants isolated? Then `/metrics`, which shows every tenant, is for proven admins only. */
  tenantsIsolated(): boolean;
  /** Undefined when ready; else why not (storage failed, closing). */
  notReady(): string | undefined;
  /** The Prometheus exposition, or undefined when metrics are off. */
  metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
  /** A static dashboard asset for `path` (`/` → the page), or undefined. */
  dashboard?: ((path: string) => { type: string; body: string | Uint8Array } | undefined) | undefined;
  /** How long a REST call waits for its answer, ms. */
  requestTimeout: number;
  log: Logger;
}

/** The request handler to give `listenWebSocket({ http })`. */
export function httpHandler(host: HttpHost): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(host, req).then((reply) => write(res, reply), (err: unknown) => {
      host.log.warn({ url: req.url, err: errorText(err) }, 'http request failed');
      write(res, err instanceof HttpAuthError ? unauthorized(err.message) : json(500, { error: errorText(err) }));
    });
  };
}

function write(res: ServerResponse, reply: HttpReply): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { 'Access-Control-Allow-Origin': '*', ...reply.headers };
  if (reply.type !== undefined) headers['Content-Type'] = reply.type;
  res.writeHead(reply.status, headers).end(reply.body);
  if (reply.linger === true) lingerClose(res);
}

/** How long a connection whose body was refused keeps reading, and dropping, what its client still sends. */
const LINGER_MS = 2_000;

/**
 * Close after a refused body the way nginx's lingering close does. Destroying the socket while the
 * client still sends resets the connection, and the client's kernel then drops the answer it had
 * not read yet (the 413 lost). So the answer leaves, the sending side is closed (FIN), what still
 * comes is read and dropped, and the socket goes when the client closes or after LINGER_MS.
 */
function lingerClose(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  res.once('finish', () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}


async function serve(host: HttpHost, req: IncomingMessage): Promise<HttpReply> {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://broker').pathname;
  } catch {
    // A request target Node's parser lets through (`GET http://[::1`) is the client's fault.
    return json(400, { error: 'malformed request target' });
  }
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') {
    return { status: 204, headers: { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type' } };
  }
  if (method === 'GET' && path === '/healthz') return json(200, { status: 'ok' });
  if (method === 'GET' && path === '/readyz') {
    const reason = host.notReady();
    return reason === undefined ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason });
  }
  if (method === 'GET' && host.dashboard !== undefined && (path === '/' || path.startsWith('/dashboard/'))) {
    // The page itself is public: it logs in over WebSocket like any component.
    const asset = host.dashboard(path);
    if (asset !== undefined) return { status: 200, body: asset.body, type: asset.type };
  }
  // Browsers ask for it on every page: not a method call.
  if (method === 'GET' && path === '/favicon.ico') return { status: 204 };
  let identity: HttpIdentity;
  try {
    identity = await host.authenticate(req.headers.authorization);
  } catch (err) {
    if (err instanceof HttpAuthError) return unauthorized(err.message);
    throw err;
  }
  const ctx: RestContext = { handle: (link) => host.handle(link), identity, requestTimeout: host.requestTimeout,
    remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}` };
  if (method === 'GET' && path === '/metrics' && host.metrics !== undefined) {
    const refused = host.tenantsIsolated() ? await unlessProvenAdmin(host, ctx) : undefined;
    if (refused !== undefined) return refused;
    const { contentType, body } = await host.metrics();
    return { status: 200, body, type: contentType };
  }
  if (method !== 'GET' && method !== 'POST') return json(405, { error: `${method} not allowed` });
  const body = await readBody(req);
  if (body === undefined) {
    // The rest of the body is discarded as it comes; the connection closes after this answer.
    return { ...json(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` }), linger: true };
  }
  if (method === 'POST' && path === '/') return jsonRpc(ctx, body);
  return rest(ctx, method, path, body);
}

/**
 * The refusal of a caller who is not a proven admin, or undefined for one: its secret is proven
 * by logging in with it, as any request's (401 when wrong or missing; 403 for another name).
 */
async function unlessProvenAdmin(host: HttpHost, ctx: RestContext): Promise<HttpReply | undefined> {
  const { name, secret } = ctx.identity;
  if (name === undefined) return unauthorized('metrics of isolated tenants: an admin\'s name and secret are needed');
  if (secret === undefined || !host.isAdmin(name)) return json(403, { error: `${name}: metrics of isolated tenants are for admins` });
  const login = await withSession(ctx, ctx.identity, () => Promise.resolve<HttpReply>({ status: 200 }));
  return login.status === 200 ? undefined : login;
}

/**
 * The body as text, or undefined past {@link MAX_BODY_BYTES}: then nothing more is kept, and the
 * socket is not destroyed here, so the client reads the 413 (destroying it mid-body reset the
 * connection before any answer).
 */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (chunks === undefined) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks = undefined;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks === undefined ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
