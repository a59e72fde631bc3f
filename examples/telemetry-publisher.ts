// Publish ten telemetry readings from two devices, then close.
// Run: npx tsx examples/telemetry-publisher.ts   (a broker must be running; see broker.ts)
import { connect } from 'rembus';

// A bare name connects to $REMBUS_BASE_URL (default ws://127.0.0.1:8338).
await using node = await connect('thermo-publisher');
for (let i = 0; i < 10; i++) {
  const dn = `dev${i % 2}`;
  node.publish(`plant1/${dn}/telemetry`, { dn, temperature: 20 + i / 2, pressure: 1013 - i, ts: Date.now() });
  await new Promise((resolve) => setTimeout(resolve, 100));
}
// A round trip proves every publish above has reached the broker before closing.
await node.rpc('rid');
console.log('published 10 readings');
