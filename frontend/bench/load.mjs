// Measures the production console: bundle sizes (raw and gzip) and how fast the project
// workspace becomes usable when opened cold (new browser profile, empty cache) in
// Debian's Chromium, against a running Sluice (SLUICE_URL; scripts/bench-console.sh
// starts one). Prints figures; asserts nothing.
//
// Per load: first contentful paint; "ready", when the folder tree lists the jobs and
// the SQL editor holds the job's text; and time to interactive, the end of the last
// main-thread long task (> 50 ms) before a 3 s quiet window after ready (or ready
// itself when no long task comes after it). Each figure is the median of RUNS loads,
// at full CPU speed and with the CPU slowed 4x (Chromium's own throttling), side by
// side in one run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const BASE = (process.env.SLUICE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const RUNS = Number(process.env.RUNS ?? 7);
// CONSOLE_DIR: another build to measure (e.g. an earlier commit's, side by side).
const DIST = process.env.CONSOLE_DIR ? `${process.env.CONSOLE_DIR}/assets/` : new URL('../dist/assets/', import.meta.url).pathname;

function bundle() {
  const rows = readdirSync(DIST)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((f) => {
      const bytes = readFileSync(join(DIST, f));
      return { file: f, raw: statSync(join(DIST, f)).size, gzip: gzipSync(bytes, { level: 9 }).length };
    })
    .sort((a, b) => b.raw - a.raw);
  return rows;
}

const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function signIn(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(BASE + '/api/v1/auth/login?return_to=/');
  await page.getByLabel('Login').fill('ann');
  await page.getByLabel('Password').fill('bench');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(BASE) && !u.pathname.startsWith('/api/'));
  return { context, page };
}

async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const r = await fetch('/api/v1' + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return r.status === 204 ? null : r.json();
    },
    { method, path, body },
  );
}

/** A project as a data engineer's would look: folders, 40 SQL jobs of some length. */
async function workspace(page) {
  const project = await api(page, 'POST', '/projects', { name: `bench-${Date.now()}` });
  const folders = [];
  for (const name of ['ingest', 'enrich', 'aggregate', 'export', 'scratch']) {
    folders.push(await api(page, 'POST', `/projects/${project.id}/folders`, { name }));
  }
  let last;
  const sql = Array.from({ length: 12 }, (_, i) =>
    `CREATE TEMPORARY TABLE t${i} (id BIGINT, v STRING, ts TIMESTAMP(3)) WITH ('connector' = 'datagen');`,
  ).join('\n') + '\nINSERT INTO t0 SELECT id, v, ts FROM t1 WHERE id > 10;\n';
  for (let i = 0; i < 40; i++) {
    last = await api(page, 'POST', `/projects/${project.id}/jobs`, {
      name: `job-${String(i).padStart(2, '0')}`,
      folder_id: folders[i % folders.length].id,
      content: { kind: 'sql', sql },
    });
  }
  return `/projects/${project.id}/jobs/${last.id}`;
}

async function load(browser, state, path, throttle) {
  const context = await browser.newContext({ storageState: state, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.startTime + e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttle > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await page.goto(BASE + path);
  await page.locator('.cm-content').filter({ hasText: 'CREATE TEMPORARY TABLE' }).waitFor({ timeout: 60_000 });
  await page.locator('[data-testid^="tree-job-"]').first().waitFor();
  const ready = await page.evaluate(() => performance.now());
  await page.waitForTimeout(3000);
  const figures = await page.evaluate((ready) => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
    const after = window.__longTasks.filter((end) => end > ready);
    const tti = Math.max(ready, ...after);
    const js = performance
      .getEntriesByType('resource')
      .filter((r) => r.name.endsWith('.js'))
      .reduce((n, r) => n + r.transferSize, 0);
    return { fcp, ready, tti, js };
  }, ready);
  await context.close();
  return figures;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
});
try {
  const rows = bundle();
  console.log(`production bundle (${DIST}):`);
  for (const r of rows) console.log(`  ${r.file.padEnd(36)} ${kb(r.raw).padStart(11)} raw ${kb(r.gzip).padStart(10)} gzip`);
  const total = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip }), { raw: 0, gzip: 0 });
  console.log(`  ${'total'.padEnd(36)} ${kb(total.raw).padStart(11)} raw ${kb(total.gzip).padStart(10)} gzip`);

  const { context, page } = await signIn(browser);
  const path = await workspace(page);
  const state = await context.storageState();
  await context.close();
  await load(browser, state, path, 1); // warm the server's caches once
  for (const throttle of [1, 4]) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await load(browser, state, path, throttle));
    const m = (k) => median(runs.map((r) => r[k])).toFixed(0);
    console.log(
      `project page, cold, CPU ${throttle}x (median of ${RUNS}): first paint ${m('fcp')} ms, ready ${m('ready')} ms, ` +
        `interactive ${m('tti')} ms; JavaScript transferred ${kb(median(runs.map((r) => r.js)))}`,
    );
  }
} finally {
  await browser.close();
}
