// The page's module script: one component, a wildcard subscription, an RPC call.
// `rembus.js` is the browser bundle of the root entry (npm run build:browser).
import { connect } from '../../dist/browser/rembus.js';

const $ = (id) => document.getElementById(id);
const log = (line) => { $('log').textContent = `${new Date().toLocaleTimeString()} ${line}\n${$('log').textContent}`; };

let node;
let watching;
// `?broker=ws://host:port/name` overrides the default in the form.
const fromQuery = new URLSearchParams(location.search).get('broker');
if (fromQuery !== null) $('broker').value = fromQuery;

async function start() {
  await node?.close();
  node = await connect($('broker').value, { connectTimeout: 5_000 });
  node.status$.subscribe((s) => { $('status').textContent = s.type; });
  watch();
}

function watch() {
  watching?.unsubscribe();
  const pattern = $('pattern').value;
  watching = node.subscribe$(pattern).subscribe((m) => log(`${m.topic} ${JSON.stringify(m.args)}`));
  log(`watching ${pattern}`);
}

$('watch').addEventListener('submit', (e) => {
  e.preventDefault();
  start().catch((err) => log(`${err.name}: ${err.message}`));
});

$('call').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const result = await node.rpc($('method').value, ...JSON.parse($('args').value));
    log(`${$('method').value} → ${JSON.stringify(result)}`);
  } catch (err) {
    log(`${err.name}: ${err.message}`);
  }
});

start().catch((err) => log(`${err.name}: ${err.message}`));
