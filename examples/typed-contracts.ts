// Typed contracts: one declaration types a topic family (its ':name' parameters too) and a
// method, checks values on both ends and at the broker, and gives the topic a typed table.
// Run: npx tsx examples/typed-contracts.ts   (starts its own broker on a free port)
import { z } from 'zod';
import { firstValueFrom } from 'rxjs';
import { connect, method, topic } from 'rembus';
import { broker } from 'rembus/broker';

const telemetry = topic('plant/:site/:dn/telemetry', z.object({ temp: z.number(), note: z.string().optional() }),
  { table: 'telemetry' });
const add = method('add', [z.number(), z.number()], z.number());

await using hub = await broker({ port: 0, contracts: [telemetry] });
await using plant = await connect(`${hub.url}/plant`);
await using monitor = await connect(`${hub.url}/monitor`);

const first = firstValueFrom(monitor.subscribe$(telemetry)); // { params: { site, dn }, value: { temp, note? } }
plant.expose(add, (a, b) => a + b);                              // a, b: number
await plant.rpc('rid');                                          // declarations are in
plant.publish(telemetry, { site: 'turin', dn: 'oven1' }, { temp: 231.5 });
const { params, value } = await first;
console.log(`${params.site}/${params.dn}: ${value.temp} °C`);
try {
  plant.publish(telemetry, { site: 'turin', dn: 'oven1' }, { temp: 'hot' } as never); // a type error without the cast
} catch (err) {
  console.log('refused before sending:', (err as { code: string }).code);
}
console.log('1 + 2 =', await monitor.rpc(add, 1, 2));
while ((hub.stats().schema?.persisted ?? 0) < 1) await new Promise((r) => setTimeout(r, 20)); // rows are written in batches
const rows = await firstValueFrom(monitor.query$(telemetry, { where: "site = 'turin'" }));
console.log('stored:', rows.map((r) => `${r.dn} ${r.temp}`).join(', '));
