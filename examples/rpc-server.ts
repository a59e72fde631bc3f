// Serve two methods: a plain function and one answered by an Observable.
// Run: npx tsx examples/rpc-server.ts   (a broker must be running; see broker.ts)
import { connect } from 'rembus';
import { timer, map } from 'rxjs';

const node = await connect('calculator');
node.expose('add', (a: number, b: number) => a + b);
node.expose('slow_square', (x: number) => timer(50).pipe(map(() => x * x)));
await node.rpc('rid'); // both methods are declared once this round trip returns
console.log('serving add and slow_square');

const stop = (): void => void node.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
