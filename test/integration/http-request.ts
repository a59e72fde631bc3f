/**
 * One HTTP request to a broker's port, as the HTTP tests make it: JSON bodies, optional Basic
 * authentication, a fresh connection each time (GET may carry a body, as Rembus.jl's RPC route
 * wants).
 */
import { request } from 'node:http';
import type { Broker } from '../../src/broker/index.js';

export interface HttpResponse { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** `body`: sent as is when a string, as JSON otherwise; `auth`: `name` or `name:secret`. */
export function http(b: Broker, method: string, path: string, body?: unknown, auth?: string): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port: b.port, method, path, headers: {
      ...(data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }),
      ...(auth === undefined ? {} : { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` }),
      Connection: 'close',
    } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
