// Compose RPC calls as cold Observables: in parallel, with a timeout and a retry.
// Run: npx tsx examples/rpc-client.ts   (with rpc-server.ts running)
import { connect, RpcTimeoutError } from 'rembus';
import { firstValueFrom, forkJoin, retry, switchMap, timeout } from 'rxjs';

await using node = await connect('calc-client');

const total$ = forkJoin([node.rpc$<number>('add', 1, 2), node.rpc$<number>('add', 3, 4)]).pipe(
  switchMap(([a, b]) => node.rpc$<number>('slow_square', a + b)),  // (3 + 7)² = 100
  timeout(5_000),
  retry({ count: 2, delay: 200 }),                                 // each retry re-issues the calls
);
console.log('result:', await firstValueFrom(total$));

try {
  await node.call('slow_square', [2], { timeout: 1 });
} catch (err) {
  console.log('timed out as asked:', err instanceof RpcTimeoutError);
}
