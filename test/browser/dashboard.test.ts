/**
 * The broker's dashboard (issue 16 item 3) in Debian's Chromium via playwright-core (nothing
 * downloaded): served by the broker at `/`, it is a browser component on the stats topic. The
 * numbers must move while traffic flows; a screenshot is saved to test-artifacts/dashboard.png.
 * The login form connects with a name and its shared secret.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { broker, memorySecurityStore, type Broker } from '../../src/broker/index.js';
import { connect, type Component } from '../../src/index.js';

declare const window: any;
declare const document: any;

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const BUNDLE = fileURLToPath(new URL('../../dist/browser/rembus.js', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
// A stated reason, never a silent skip.
const missing = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(BUNDLE) ? 'dist/browser/rembus.js missing: run npm run build && npm run build:browser' : undefined;
if (missing !== undefined) console.warn(`dashboard test skipped: ${missing}`);

describe.skipIf(missing !== undefined)('dashboard in Chromium', () => {
  let browser: Browser;
  let b: Broker;
  const nodes: Component[] = [];
  let traffic: ReturnType<typeof setInterval> | undefined;

  beforeAll(async () => {
    b = await broker({ port: 0, host: '127.0.0.1', http: { statsInterval: 250 },
      security: memorySecurityStore({ keys: { ops: 'hunter2' } }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  }, 60_000);

  afterAll(async () => {
    clearInterval(traffic);
    for (const n of nodes) await n.close();
    await browser?.close();
    await b?.close();
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${b.port!}/`);
    await page.waitForFunction(() => window.dashboard?.snapshots >= 2, undefined, { timeout: 15_000 })
      .catch((err: unknown) => { throw new Error(`no snapshots drawn: ${errors.join('; ')}`, { cause: err }); });
    return page;
  }

  it('shows components, topics, methods and moving numbers while traffic flows', async () => {
    const sensor = await connect(`${b.url!}/sensor-7`);
    const server = await connect(`${b.url!}/calculator`);
    const sink = await connect(`${b.url!}/historian`);
    nodes.push(sensor, server, sink);
    server.expose('add', (x: number, y: number) => x + y);
    sink.subscribe$('plant/**').subscribe();
    let i = 0;
    traffic = setInterval(() => {
      for (let k = 0; k < 40; k++) sensor.publish(`plant/${k % 3}/telemetry`, { t: 20 + (i++ % 7) });
      void sensor.rpc('add', i, 1);
    }, 20);
    const page = await open();
    const text = (id: string): Promise<string> => page.$eval(`#${id}`, (el: any) => el.textContent);
    await page.waitForFunction(() => Number(document.getElementById('msgs-in').textContent.replace(/[^\d.]/g, '')) > 0,
      undefined, { timeout: 10_000 });
    const totals = async (): Promise<string> => text('bytes-total');
    const before = await totals();
    await page.waitForFunction((t: string) => document.getElementById('bytes-total').textContent !== t, before, { timeout: 10_000 });
    expect(Number((await text('components-online')).trim())).toBeGreaterThanOrEqual(3);
    const table = await page.$eval('#components', (el: any) => el.textContent);
    for (const name of ['sensor-7', 'calculator', 'historian', 'plant/**', 'add']) expect(table).toContain(name);
    await page.waitForSelector('#topics .row[data-name="plant/0/telemetry"]');
    await page.waitForSelector('#methods .row');
    expect(await page.$eval('#methods', (el: any) => el.textContent)).toMatch(/add \(\d+/);
    // The charts hold lines once two snapshots exist.
    expect(await page.$$eval('#chart-msgs polyline', (els: any[]) => els.length)).toBe(2);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
    clearInterval(traffic);
    await page.close();
  }, 60_000);

  it('logs in with a name and its shared secret, and says why a wrong secret fails', async () => {
    const page = await open();
    expect(await page.$eval('#who', (el: any) => el.textContent)).toBe('anonymous');
    await page.click('#login-open');
    await page.fill('#login-name', 'ops');
    await page.fill('#login-secret', 'wrong');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', undefined, { timeout: 10_000 });
    await page.fill('#login-secret', 'hunter2');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.getElementById('who').textContent === 'as ops' && window.dashboard.connected,
      undefined, { timeout: 10_000 });
    const seen = await page.evaluate(() => window.dashboard.snapshots);
    await page.waitForFunction((n: number) => window.dashboard.snapshots > n, seen, { timeout: 10_000 });
    await page.close();
  }, 60_000);
});
