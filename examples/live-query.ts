// A live query: the hot readings now, then each new one as the broker stores it (README "Live queries").
// Self-contained (its own broker with a schema table, on a free port). Run: npx tsx examples/live-query.ts
import { scan, takeWhile } from 'rxjs';
import { connect } from 'rembus';
import { broker } from 'rembus/broker';

const b = await broker({ port: 0, host: '127.0.0.1', schema: { tables: [{ table: 'telemetry', topic: ':site/:dn/telemetry',
  columns: [{ col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' }] }] } });
const sensors = await connect(`${b.url}/sensors`);
const dashboard = await connect(`${b.url}/dashboard`);

sensors.publish('plant1/d1/telemetry', { temperature: 35 });
sensors.publish('plant1/d2/telemetry', { temperature: 20 });
await sensors.rpc('rid'); // both stored before the query starts: they are in its snapshot

interface Reading { site: string; dn: string; temperature: number }
const done = new Promise<void>((resolve) => {
  dashboard.query$<Reading>('telemetry', { where: 'temperature > 30', live: true }).pipe(
    scan((hot, e) => (e.type === 'snapshot' ? e.rows : [...hot, ...e.rows]), [] as Reading[]),
    takeWhile((hot) => hot.length < 3, true), // d1 from the snapshot, then d3 and d5 as they are stored
  ).subscribe({
    next: (hot) => console.log('hot:', hot.map((r) => `${r.dn} ${r.temperature}`).join(', ')),
    complete: resolve, // unsubscribing (takeWhile) stops the broker's work
  });
});
setTimeout(() => sensors.publish('plant1/d3/telemetry', { temperature: 41 }), 300);
setTimeout(() => sensors.publish('plant1/d4/telemetry', { temperature: 12 }), 400); // not hot: never emitted
setTimeout(() => sensors.publish('plant2/d5/telemetry', { temperature: 33 }), 500);
await done;
await dashboard.close();
await sensors.close();
await b.close();
