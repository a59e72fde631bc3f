/**
 * Benchmark role: a raw `ws` + cbor-x client of the relay (relay-broker.ts). Same modes and
 * pacing as rembus-client.ts; no QoS1 (the relay has no acks).
 *
 * - `sub --expect N`: every PUB frame is decoded (`[topic, payload]`) and counted; the relay does
 *   no topic matching, so the W3 wildcard costs it nothing.
 * - `pub --count N --chunk C [--topic T | --topics 1000]`
 * - `rpc-server`, `rpc-caller --count N [--concurrency K] [--warmup W]`
 */
import { Decoder, Encoder } from 'cbor-x';
import WebSocket from 'ws';
import {
  Counter, die, num, onParent, peerArgs, rpcCaller, tell, telemetry, topicFor, unackedPublisher,
} from './common.js';
import { OP } from './relay.js';

const { args, url, mode } = peerArgs();
const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Send a registration op and wait for the relay's OK. */
function register(ws: WebSocket, op: number): Promise<void> {
  return new Promise((resolve) => {
    const onOk = (data: Buffer): void => {
      if (data.length === 1 && data[0] === OP.OK) {
        ws.off('message', onOk);
        resolve();
      }
    };
    ws.on('message', onOk);
    ws.send(Buffer.from([op]));
  });
}

/** `[op, ...reserved zero bytes, ...cbor(value)]` in one buffer. */
function frame(op: number, reserved: number, value: unknown): Buffer {
  const body = encoder.encode(value);
  const out = Buffer.allocUnsafe(1 + reserved + body.length);
  out[0] = op;
  out.fill(0, 1, 1 + reserved);
  out.set(body, 1 + reserved);
  return out;
}

async function main(): Promise<void> {
  const ws = await open();
  onParent({ exit: () => ws.terminate() });
  switch (mode) {
    case 'sub': {
      const counter = new Counter(num(args, 'expect'));
      ws.on('message', (data: Buffer) => {
        if (data[0] !== OP.PUB) return;
        decoder.decode(data.subarray(1));
        counter.hit();
      });
      onParent({ stop: () => counter.report() });
      await register(ws, OP.SUB);
      tell({ type: 'ready' });
      return;
    }
    case 'pub': {
      const topic = topicFor(args);
      unackedPublisher(args, 'n/a (no QoS1 in a raw relay)', (i) => ws.send(frame(OP.PUB, 0, [topic(i), telemetry(i)])));
      return;
    }
    case 'rpc-server': {
      ws.on('message', (data: Buffer) => {
        if (data[0] !== OP.REQ) return;
        const [id, a, b] = decoder.decode(data.subarray(5)) as [number, number, number];
        const out = frame(OP.RES, 4, [id, a + b]);
        data.copy(out, 1, 1, 5); // the caller's connection id
        ws.send(out);
      });
      await register(ws, OP.EXPOSE);
      tell({ type: 'ready' });
      return;
    }
    case 'rpc-caller': {
      const pending = new Map<number, (result: unknown) => void>();
      let nextId = 0;
      ws.on('message', (data: Buffer) => {
        const [id, result] = decoder.decode(data) as [number, unknown];
        const resolve = pending.get(id);
        if (resolve === undefined) return;
        pending.delete(id);
        resolve(result);
      });
      const call = (i: number): Promise<unknown> => new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(frame(OP.REQ, 4, [id, i, 1]));
      });
      rpcCaller(args, call);
      return;
    }
    default:
      throw new Error(`unknown --mode ${mode}`);
  }
}

main().catch(die);
