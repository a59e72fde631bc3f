// Bytes per call by category of the allocating frame (self), for a heap profile and a call count.
import { readFileSync } from 'node:fs';
const [file, callsArg] = process.argv.slice(2);
const calls = Number(callsArg);
const p = JSON.parse(readFileSync(file, 'utf8'));
const cat = (f) => {
  const u = f.url, n = f.functionName;
  if (/transport\/|broker\/twin\.js/.test(u)) return 'rembus transport (ws-link batch, frames)';
  if (/node_modules\/ws\//.test(u)) return 'ws library';
  if (/node_modules\/cbor-x/.test(u)) return 'cbor-x';
  if (/node_modules\/rxjs/.test(u) || /firstValueFrom/.test(n)) return 'rxjs';
  if (/src\/|dist\//.test(u)) return 'rembus rpc/codec/component';
  if (/rpc-alloc\/role/.test(u)) return 'bench caller loop';
  if (u.startsWith('node:') || u === '' ) return 'node internals / builtins';
  return 'other';
};
const agg = new Map();
const walk = (n, parentCat) => {
  let c = cat(n.callFrame);
  // builtins (url '') inherit the category of the JS frame that called them
  if (n.callFrame.url === '' && parentCat !== undefined && !/processTicksAndRejections|processPromiseRejections/.test(n.callFrame.functionName)) c = parentCat;
  agg.set(c, (agg.get(c) ?? 0) + n.selfSize);
  for (const ch of n.children) walk(ch, c === 'node internals / builtins' ? parentCat ?? c : c);
};
walk(p.head);
let tot = 0; for (const v of agg.values()) tot += v;
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1])) console.log(`${(v / calls).toFixed(0).padStart(6)} B/call  ${k}`);
console.log(`${(tot / calls).toFixed(0).padStart(6)} B/call  total`);
