/**
 * Issue 13 item 6 against a real broker process (`rembus broker`, in memory): an anonymous `**`
 * subscriber that stops reading is cut as a slow consumer (logged), an unrelated pair and a
 * publisher's fast subscriber receive everything meanwhile, and what the broker holds for the
 * stalled reader stays bounded. No timing is asserted: rates are W11's business (`npm run bench`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeCbor, newMsgId } from '../../src/codec/index.js';
import { component, type Component } from '../../src/index.js';
import { roundTrip, waitFor } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const opened: Component[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `rembus broker` in its own process; resolves once it listens. */
async function startBroker(): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--port', '0',
    '--host', '127.0.0.1', '--no-persist'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', () => {
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(`ws://127.0.0.1:${m[1]}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

/** Resident memory of a process now, MiB. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe('a stalled ** subscriber against a broker process', () => {
  it('is cut and logged; the other subscribers get everything; the broker holds a bounded amount for it', async () => {
    const broker = await startBroker();
    const stuck = new WebSocket(broker.url, { perMessageDeflate: false });
    sockets.push(stuck);
    await new Promise((resolve, reject) => { stuck.once('open', resolve); stuck.once('error', reject); });
    stuck.on('error', () => undefined);
    const subscribed = new Promise((resolve) => stuck.once('message', resolve));
    stuck.send(encodeCbor({ type: 'admin', id: newMsgId(), topic: '**', cmd: { cmd: 'subscribe', msg_from: 0 } }));
    await subscribed;
    (stuck as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing from now on
    const [pubA, subA, pubB, fastB] = ['pubA', 'subA', 'pubB', 'fastB'].map((name) => {
      const node = component(`${broker.url}/${name}`);
      opened.push(node);
      return node;
    }) as [Component, Component, Component, Component];
    const got = { a: [] as unknown[], b: [] as unknown[] };
    subA.subscribe$('pair/a').subscribe((m) => got.a.push(m.args[0]));
    fastB.subscribe$('pair/b').subscribe((m) => got.b.push(m.args[0]));
    await roundTrip(subA, fastB, pubA, pubB);
    const before = rssMiB(broker.child.pid!);
    let peak = before;
    const chunk = new Uint8Array(8192);
    let sent = 0;
    // Loopback's kernel buffers take tens of MB before the broker holds anything: publish until
    // the cut is logged (bounded), then a few rounds more.
    for (let after = 0; after < 5 && sent < 60_000;) {
      for (let i = 0; i < 100; i++, sent++) {
        pubA.publish('pair/a', sent, chunk);
        pubB.publish('pair/b', sent, chunk);
      }
      await roundTrip(pubA, pubB);
      peak = Math.max(peak, rssMiB(broker.child.pid!));
      if (broker.stderr().includes('slow consumer cut')) after++;
    }
    // Whichever comes first: the 2 s write deadline, 8 MiB more parked with nothing written for
    // 0.5 s (`stallBytes`), or (on a fast box) more than 64 MiB unread.
    expect(broker.stderr()).toMatch(
      /slow consumer cut: (nothing written for 2000 ms|nothing written for \d+ ms while 8388608 bytes more were parked|more than 67108864 bytes unread)/);
    await roundTrip(subA, fastB);
    const all = [...Array(sent).keys()];
    expect(got.a).toEqual(all);
    expect(got.b).toEqual(all);
    // Held for the stalled reader when it was cut: what the 2 s deadline let pile up past 1 MiB,
    // below maxBufferedBytes (64 MiB). The process grew by less than that plus its working set
    // for the traffic (tens of MiB of frames went through it; on a loaded box GC runs late, so
    // the bound leaves room — unbounded holding grows by the GiB of frames sent, and the old
    // pooled-buffer bug held 345 MiB for 1.5 MB of frames).
    const line = broker.stderr().split('\n').find((l) => l.includes('slow consumer cut'))!;
    const held = (JSON.parse(line) as { buffered: number }).buffered;
    expect(held).toBeGreaterThan(1024 * 1024);
    expect(held).toBeLessThanOrEqual(64 * 1024 * 1024 + 65_536); // the cut comes with the frame that crosses the bound
    expect(peak - before).toBeLessThan(200);
    stuck.terminate();
  }, 90_000);
});
