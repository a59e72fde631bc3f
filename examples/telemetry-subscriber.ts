// Average the temperature per device over every 5 readings, from any site.
// Run: npx tsx examples/telemetry-subscriber.ts   (then run telemetry-publisher.ts)
import { connect } from 'rembus';
import { bufferCount, groupBy, map, mergeMap, take } from 'rxjs';

interface Reading { dn: string; temperature: number }

const node = await connect('thermo-monitor');
node.subscribe$<[Reading]>('**/telemetry').pipe(
  take(10),                                   // stop after ten readings (an example must end)
  groupBy((m) => m.args[0].dn),
  mergeMap((device$) => device$.pipe(
    bufferCount(5),
    map((batch) => ({
      dn: device$.key,
      avg: batch.reduce((sum, m) => sum + m.args[0].temperature, 0) / batch.length,
    })),
  )),
).subscribe({
  next: ({ dn, avg }) => console.log(`${dn}: average ${avg.toFixed(2)} °C`),
  complete: () => void node.close(),
});
await node.rpc('rid'); // the subscription is declared once this round trip returns
console.log('subscribed to **/telemetry');
