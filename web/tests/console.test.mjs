#!/usr/bin/env node
// Browser test of the operator console: a real `kairos serve` on a small generated workspace,
// Debian's chromium driven by playwright-core (no browser download). Signs in, finds a customer
// and reads the explanation, edits an action with an error and sees the message at its line,
// fixes it and reloads, sees charts render, checks that a refused key leads back to sign-in, and
// that no page logs a console error. Screenshots of every page at laptop (1366×768) and tablet
// (820×1180) widths go to --artifacts.
//
//   node console.test.mjs --kairos build/release/app/kairos --artifacts DIR [--subscribers 2000] [--keep]
// Exit 0: passed; 1: failed; 77: skipped (no chromium).
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = parseArgs(process.argv.slice(2));
const kairos = path.resolve(args.kairos ?? 'build/release/app/kairos');
const artifacts = path.resolve(args.artifacts ?? 'test-artifacts/console');
const subscribers = Number(args.subscribers ?? 2000);
const chromiumPath = process.env.KAIROS_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath)) {
  console.log(`SKIP: no chromium at ${chromiumPath}`);
  process.exit(77);
}
fs.mkdirSync(artifacts, { recursive: true });

const started = Date.now();
const log = (...m) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...m);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kairos-console-'));
const ws = path.join(root, 'ws');
let server;
let browser;
let failed = false;

try {
  // ---- a workspace with history, segments and an admin key ----
  run(['init', ws, '--demo']);
  const today = new Date().toISOString().slice(0, 10);
  run(['generate', '--out', path.join(root, 'gen'), '--subscribers', String(subscribers), '--days', '30', '--seed', '7', '--end', today]);
  run(['ingest', '--workspace', ws, path.join(root, 'gen', 'events.ndjson'), '--rejects', path.join(root, 'rejects.ndjson')], { allowFail: true });
  run(['segment', '--workspace', ws], { allowFail: true });
  const admin = createKey('admin');
  const viewer = createKey('viewer');
  log('workspace ready', admin ? 'with keys' : 'without keys (no `kairos keys`)');
  const someId = firstSubscriber(path.join(root, 'gen', 'events.ndjson'));

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serveLog = fs.openSync(path.join(artifacts, 'serve.log'), 'w');
  server = spawn(kairos, ['serve', '--workspace', ws, '--port', String(port)], { stdio: ['ignore', serveLog, serveLog] });
  await waitReady(base);
  log('server ready on', base);
  await makeTraffic(base, admin);

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });

  // ---- laptop: the full flow ----
  const laptop = await newWatchedPage({ width: 1366, height: 768 });
  const page = laptop.page;
  await page.goto(base + '/');
  await page.waitForSelector('#api-key');
  check((await page.getAttribute('#api-key', 'type')) === 'password', 'the API key input is a password field');
  await shot(page, 'laptop-sign-in');

  if (admin) {
    laptop.expect(401, 'GET', '/v1/auth/whoami');
    await page.fill('#api-key', 'kai_000000000000_' + 'x'.repeat(64));
    await page.click('button[type=submit]');
    await page.waitForSelector('#signin-error');
    check(/not valid/.test(await page.textContent('#signin-error')), 'a wrong key is refused with a message');
    laptop.clear();
  }
  await page.fill('#api-key', admin ?? 'no-key');
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:text("Overview")');
  const storage = await page.evaluate(() => ({ key: sessionStorage.getItem('kairos.api_key'), cookie: document.cookie, url: location.href }));
  check(storage.key === (admin ?? 'no-key') && storage.cookie === '' && !storage.url.includes('kai_'), 'the key is in sessionStorage only');
  await page.waitForSelector('.tiles .tile-value');
  await waitForChart(page, '#h-throughput', 15000);
  await shot(page, 'laptop-overview');
  log('overview: tiles and throughput chart rendered');

  // Customers: search by prefix, open the first match, read the explanation.
  await page.click('nav >> text=Customers');
  await page.waitForSelector('#customer-search');
  await page.fill('#customer-search', someId.slice(0, someId.length - 2));
  await page.waitForSelector('#customer-results [role=option]');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.c360');
  await page.waitForSelector('table.candidates tbody tr', { timeout: 15000 });
  const candidates = await page.$$eval('table.candidates tbody tr', (rows) => rows.map((r) => r.textContent));
  check(candidates.length > 0, 'the decision explanation lists candidates');
  check(candidates.some((t) => /Offered|Dropped|Ranked|Lost/.test(t)), 'each candidate says what happened to it');
  await waitForChart(page, '#h-usage', 5000).catch(() => log('no usage chart for this subscriber'));
  await shot(page, 'laptop-customer');
  log('customer 360 with', candidates.length, 'candidates');

  await page.click('nav >> text=Segments');
  await page.waitForSelector('.vgrid, .state.empty, table.plain');
  await shot(page, 'laptop-segments');

  // Actions: edit DATA_5GB with an error, see it at its line, fix it, reload.
  await page.click('nav >> text=Actions');
  await page.waitForSelector('table.actions');
  await shot(page, 'laptop-actions');
  await page.click('#action-DATA_5GB button:text("Edit")');
  await page.waitForSelector('.editor textarea');
  await poll(page, () => document.querySelector('.editor textarea')?.value.length > 0);
  const original = await page.inputValue('.editor textarea');
  const selected = await page.evaluate(() => {
    const t = document.querySelector('.editor textarea');
    return t.value.slice(t.selectionStart, t.selectionEnd);
  });
  check(/DATA_5GB/.test(selected), `"Edit" selects the action's line (${JSON.stringify(selected)})`);
  const lines = original.split('\n');
  const start = lines.findIndex((l) => /id:\s*DATA_5GB\b/.test(l));
  const bad = lines.findIndex((l, i) => i > start && /^\s*propensity:/.test(l));
  check(start >= 0 && bad > start, 'the demo catalog declares DATA_5GB with a propensity');
  const broken = [...lines];
  broken[bad] = broken[bad].replace(/propensity:.*/, 'propensity: 1.7');
  await page.fill('.editor textarea', broken.join('\n'));
  laptop.expect(400, 'PUT', '/v1/admin/config/catalog.yaml');
  await page.click('button:text("Check, save and reload")');
  await page.waitForSelector('.problems li');
  const problems = await page.$$eval('.problems li', (li) => li.map((x) => x.textContent));
  check(problems.some((p) => p.includes(`catalog.yaml:${bad + 1}`)), `the problem names line ${bad + 1}: ${problems.join(' | ')}`);
  const note = await page.$('.note');
  check(note !== null && (await note.isVisible()), 'the message is shown beside its line');
  const marked = await page.$$eval('.gl.bad', (g) => g.map((x) => x.textContent.replace(/\D/g, '')));
  check(marked.includes(String(bad + 1)), `the gutter marks line ${bad + 1}`);
  await page.$eval('[aria-labelledby="h-editor"]', (e) => e.scrollIntoView({ block: 'start' }));
  await shot(page, 'laptop-actions-error', false);
  laptop.clear();
  await page.fill('.editor textarea', original);
  await page.click('button:text("Check, save and reload")');
  await page.waitForSelector('.status.ok');
  await page.$eval('.status.ok', (e) => e.scrollIntoView({ block: 'end' }));
  await shot(page, 'laptop-actions-saved', false);
  log('catalog edit: error at line', bad + 1, 'shown; fixed and reloaded');

  await page.click('nav >> text=Simulations');
  await page.waitForSelector('text=the simulator is not available in this build');
  await shot(page, 'laptop-simulations');

  // Keyboard: the skip link and the nav are reachable with Tab.
  await page.goto(base + '/overview');
  await page.waitForSelector('.tiles');
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Skip to content', 'Tab reaches the skip link first');

  // A key the server refuses (revoked, or a new server) sends the user back to sign-in.
  if (admin) {
    laptop.expect(401, '*', '/v1/');
    await page.evaluate(() => sessionStorage.setItem('kairos.api_key', 'kai_000000000000_' + 'y'.repeat(64)));
    await page.click('nav >> text=Segments');
    await page.waitForSelector('#api-key');
    check(/session ended/i.test((await page.textContent('.notice')) ?? ''), 'a 401 returns to sign-in with a message');
    laptop.clear();
  }
  laptop.assertClean('laptop');

  // ---- a viewer is not offered what it may not do ----
  if (viewer) {
    const v = await newWatchedPage({ width: 1366, height: 768 }, viewer);
    await v.page.goto(base + '/actions');
    await v.page.waitForSelector('table.actions');
    check((await v.page.$('button:text("Edit")')) === null, 'a viewer gets no Edit buttons');
    await v.page.goto(base + '/customers/' + encodeURIComponent(someId));
    await v.page.waitForSelector('text=Your role cannot run decisions.');
    v.assertClean('viewer');
    await v.page.context().close();
  }

  // ---- tablet: every page ----
  const tablet = await newWatchedPage({ width: 820, height: 1180 }, admin ?? 'no-key');
  for (const [name, url, ready] of [
    ['overview', '/overview', '.tiles .tile-value'],
    ['customer', '/customers/' + encodeURIComponent(someId), 'table.candidates tbody tr'],
    ['segments', '/segments', '.vgrid, .state.empty'],
    ['actions', '/actions', 'table.actions'],
    ['simulations', '/simulations', '.state.empty'],
  ]) {
    await tablet.page.goto(base + url);
    await tablet.page.waitForSelector(ready, { timeout: 15000 });
    if (name === 'overview') await waitForChart(tablet.page, '#h-throughput', 15000);
    await shot(tablet.page, 'tablet-' + name);
    const overflow = await tablet.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${name}: no horizontal scrolling at tablet width (${overflow}px)`);
  }
  tablet.assertClean('tablet');
  log('all checks passed; screenshots in', artifacts);
} catch (e) {
  failed = true;
  console.error('FAIL:', e?.stack ?? e);
} finally {
  await browser?.close().catch(() => {});
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
  }
  if (!args.keep) fs.rmSync(root, { recursive: true, force: true });
  else log('kept', root);
}
process.exit(failed ? 1 : 0);

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const k = a.slice(2);
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}

function run(cmdArgs, { allowFail = false } = {}) {
  try {
    return execFileSync(kairos, cmdArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    if (allowFail) {
      log(`kairos ${cmdArgs[0]} exited ${e.status}: ${(e.stderr || e.stdout || '').trim().split('\n').slice(-2).join(' ')}`);
      return '';
    }
    throw new Error(`kairos ${cmdArgs.join(' ')} exited ${e.status}: ${e.stderr}${e.stdout}`);
  }
}

function createKey(role) {
  try {
    const out = execFileSync(kairos, ['keys', 'create', '--workspace', ws, '--role', role, '--name', 'browser-test-' + role, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out).key;
  } catch {
    return null;
  }
}

function firstSubscriber(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const m = /"subscriber_id":"([^"]+)"/.exec(buf.toString('utf8'));
  if (!m) throw new Error('no subscriber id in ' + file);
  return m[1];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitReady(base) {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error('kairos serve exited ' + server.exitCode + ' (see serve.log)');
    try {
      const r = await fetch(base + '/readyz');
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('kairos serve not ready within 60 s');
}

// A page whose console errors, uncaught exceptions and unexpected HTTP errors are recorded.
async function newWatchedPage(viewport, key) {
  const context = await browser.newContext({ viewport });
  if (key) await context.addInitScript((k) => sessionStorage.setItem('kairos.api_key', k), key);
  const page = await context.newPage();
  const problems = [];
  let expected = [];
  page.on('console', (m) => {
    // Chromium logs every 4xx/5xx fetch as "Failed to load resource"; those are judged by the
    // response handler below (expected ones are part of the flow).
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push('console: ' + m.text());
  });
  page.on('pageerror', (e) => problems.push('exception: ' + e.message));
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const u = new URL(r.url());
    const ok = expected.some((x) => x.status === r.status() && (x.method === '*' || x.method === r.request().method()) && u.pathname.startsWith(x.path));
    if (!ok) problems.push(`http: ${r.status()} ${r.request().method()} ${u.pathname}`);
  });
  return {
    page,
    expect: (status, method, p) => expected.push({ status, method, path: p }),
    clear: () => (expected = []),
    assertClean: (what) => check(problems.length === 0, `${what}: no console errors or unexpected HTTP errors: ${problems.join('; ')}`),
  };
}

async function waitForChart(page, scope, timeout) {
  await poll(
    page,
    (sel) => {
      const c = document.querySelector(`[aria-labelledby="${sel.slice(1)}"] canvas`);
      return c !== null && c.width > 0 && c.height > 0 && c.getBoundingClientRect().width > 0;
    },
    scope,
    timeout,
  );
}

// page.waitForFunction compiles its predicate with eval, which the console's
// Content-Security-Policy forbids (as it should); page.evaluate does not need it.
async function poll(page, fn, arg, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + fn.toString().slice(0, 80));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage });
}

// Some decisions and responses, so that the overview, the uplift and the actions have figures.
async function makeTraffic(base, key) {
  const headers = { 'Content-Type': 'application/json', ...(key ? { Authorization: 'Bearer ' + key } : {}) };
  const ids = (await (await fetch(base + '/v1/subscribers?prefix=s&limit=100', { headers })).json()).subscribers;
  let shown = 0;
  for (const [i, id] of ids.entries()) {
    for (const channel of ['app', 'sms']) {
      const r = await fetch(base + '/v1/decide', { method: 'POST', headers, body: JSON.stringify({ subscriber_id: id, channel }) });
      if (!r.ok) throw new Error(`decide ${id}: ${r.status} ${await r.text()}`);
      const d = await r.json();
      for (const a of d.actions) {
        shown++;
        const outcome = i % 3 === 0 ? 'accepted' : i % 3 === 1 ? 'rejected' : 'ignored';
        const body = JSON.stringify({ decision_id: d.decision_id, action_id: a.action_id, outcome });
        await fetch(base + '/v1/responses', { method: 'POST', headers, body });
        if (i % 6 === 0) {
          await fetch(base + '/v1/responses', { method: 'POST', headers, body: JSON.stringify({ decision_id: d.decision_id, action_id: a.action_id, outcome: 'converted' }) });
        }
      }
    }
  }
  log(`traffic: ${ids.length * 2} decisions, ${shown} actions shown, responses recorded`);
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('  ok -', what);
}
