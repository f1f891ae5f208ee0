#!/usr/bin/env node
// Console load times against a running `kairos serve`, in Debian's chromium (playwright-core from
// the build's web/node_modules). Each run uses a fresh browser context (empty cache):
//   overview: navigation start → tiles filled and the throughput chart drawn
//   customer: Enter in the search box → 360° view rendered (profile), and → the explained
//             dry-run decision rendered
// Prints each run and the medians.
//
//   node bench/console_load.mjs --url http://127.0.0.1:8080 --key kai_... \
//        [--runs 3] [--subscriber s0000042] [--web build/release/web]
import { createRequire } from 'node:module';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith('--')) args[a.slice(2)] = process.argv[i + 1]?.startsWith('--') ? true : process.argv[++i];
}
const url = args.url ?? 'http://127.0.0.1:8080';
const key = args.key ?? process.env.KAIROS_KEY;
const runs = Number(args.runs ?? 3);
const web = path.resolve(args.web ?? 'build/release/web');
const require = createRequire(path.join(web, 'package.json'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: process.env.KAIROS_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

async function page() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  if (key) await context.addInitScript((k) => sessionStorage.setItem('kairos.api_key', k), key);
  return context.newPage();
}

let subscriber = args.subscriber;
if (!subscriber) {
  const r = await fetch(url + '/v1/subscribers?prefix=&limit=1', { headers: key ? { Authorization: 'Bearer ' + key } : {} });
  subscriber = (await r.json()).subscribers?.[0];
}
const subscribersTotal = await fetch(url + '/v1/reports/overview', { headers: key ? { Authorization: 'Bearer ' + key } : {} })
  .then((r) => r.json())
  .then((o) => o.subscribers)
  .catch(() => '?');
console.log(`console load: ${url}, ${subscribersTotal} subscribers in the store, customer ${subscriber}, ${runs} runs`);

const overview = [];
const customer = [];
const explained = [];
for (let i = 0; i < runs; i++) {
  const p = await page();
  await p.goto(url + '/overview');
  await p.waitForSelector('.tiles .tile-value');
  let chart = true;
  // Polled with evaluate: waitForFunction needs eval, which the console's CSP forbids.
  for (const deadline = Date.now() + 10000; ; ) {
    const drawn = await p.evaluate(() => {
      const c = document.querySelector('[aria-labelledby="h-throughput"] canvas');
      return c !== null && c.width > 0;
    });
    if (drawn) break;
    if (Date.now() > deadline) {
      chart = false;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const o = await p.evaluate(() => performance.now());
  overview.push(o);

  await p.click('nav >> text=Customers');
  await p.fill('#customer-search', subscriber);
  await p.waitForSelector('#customer-results [role=option]');
  await p.evaluate(() => {
    window.__t0 = performance.now();
  });
  await p.keyboard.press('Enter');
  await p.waitForSelector('.c360 .tiles');
  const [c, fetched] = await p.evaluate(() => {
    const r = performance.getEntriesByType('resource').find((e) => /\/v1\/subscribers\/[^?]+$/.test(e.name));
    return [performance.now() - window.__t0, r ? r.responseEnd - window.__t0 : NaN];
  });
  await p.waitForSelector('table.candidates tbody tr', { timeout: 30000 });
  const e = await p.evaluate(() => performance.now() - window.__t0);
  customer.push(c);
  explained.push(e);
  console.log(`run ${i + 1}: overview ${o.toFixed(0)} ms${chart ? '' : ' (no chart: no rate samples yet)'}; customer 360 ${c.toFixed(0)} ms (profile answered after ${fetched.toFixed(0)} ms), with the explained decision ${e.toFixed(0)} ms`);
  await p.context().close();
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median overview first load: ${median(overview).toFixed(0)} ms`);
console.log(`median customer 360 (search → rendered): ${median(customer).toFixed(0)} ms`);
console.log(`median customer 360 with the explained decision: ${median(explained).toFixed(0)} ms`);
