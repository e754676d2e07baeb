// End to end through the console against a running Sluice and a real Flink: a SQL
// draft debugged with a CSV sample uploaded from the debug dialog, its count per
// customer read as it changes until the sample runs out.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/debug.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, launch, shootOpenPages, shot, signIn } from './browser.mjs';

// The datagen table reads the sample instead: the run's input ends with the file.
const SQL = `CREATE TEMPORARY TABLE orders (id BIGINT, customer STRING, amount DOUBLE) WITH ('connector' = 'datagen');
SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer;
`;
const ORDERS_CSV = 'id,customer,amount\n1,ann,5\n2,bob,20\n3,ann,30\n4,ann,1\n';

let browser;
let page;
/** What the test made, removed whatever happens; a run still going is cancelled. */
const made = { projectId: undefined, runId: undefined };

before(async () => {
  browser = await launch();
});

after(async () => {
  await shootOpenPages(browser, 'zz-debug-last');
  if (page && made.projectId) {
    const p = made.projectId;
    if (made.runId) {
      const run = await api(page, 'GET', `/projects/${p}/debug-runs/${made.runId}`).catch(() => null);
      if (run?.body && run.body.status !== 'ended') await api(page, 'POST', `/projects/${p}/debug-runs/${made.runId}/cancel`).catch(() => undefined);
      // Its engine job is cancelled by the time the run says it has ended.
      for (let i = 0; i < 60; i++) {
        const r = await api(page, 'GET', `/projects/${p}/debug-runs/${made.runId}`).catch(() => null);
        if (!r || r.status !== 200 || r.body.status === 'ended') break;
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    const samples = await api(page, 'GET', `/projects/${p}/debug-samples`).catch(() => null);
    for (const s of Array.isArray(samples?.body) ? samples.body : []) await api(page, 'DELETE', `/projects/${p}/debug-samples/${s.id}`).catch(() => undefined);
    const jobs = await api(page, 'GET', `/projects/${p}/jobs`).catch(() => null);
    for (const j of jobs?.body?.items ?? []) await api(page, 'DELETE', `/projects/${p}/jobs/${j.id}`).catch(() => undefined);
    await api(page, 'DELETE', `/projects/${p}`).catch(() => undefined);
  }
  await browser?.close();
});

test('a SQL draft debugged with an uploaded CSV sample shows its changelog until the input is exhausted', { timeout: 300_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await signIn(context, 'ann');
  const project = await api(page, 'POST', '/projects', { name: `e2e-debug-${Date.now()}` });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  made.projectId = project.body.id;
  const job = await api(page, 'POST', `/projects/${made.projectId}/jobs`, { name: 'orders-per-customer', content: { kind: 'sql', sql: SQL } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  await page.goto(`${BASE}/projects/${made.projectId}/jobs/${job.body.id}`);
  await page.locator('.editor-host .cm-content').waitFor();

  // Debug: the draft is read first as a debug run reads it, for its source tables. Its
  // SELECT of its own is a result there, not a mistake: the table it reads is listed.
  const reading = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/jobs/${job.body.id}/validate`));
  await page.getByRole('button', { name: 'Debug', exact: true }).click();
  const read = await (await reading).json();
  assert.deepEqual([read.valid, read.sources.map((t) => t.name)], [true, ['orders']], JSON.stringify(read));
  const dialog = page.getByRole('dialog', { name: 'Debug the draft' });
  await dialog.waitFor({ timeout: 90_000 });
  assert.equal(await dialog.getByTestId('sources-unlisted').count(), 0, 'the tables are listed, not named by hand');
  const input = dialog.getByRole('combobox', { name: 'Input of orders' });
  assert.equal(await input.inputValue(), '', 'a source reads live until a sample is chosen');

  // A CSV sample uploaded for it, and chosen.
  await dialog.getByLabel('Sample file for orders').setInputFiles({ name: 'four-orders.csv', mimeType: 'text/csv', buffer: Buffer.from(ORDERS_CSV) });
  await dialog.getByText('Columns: id, customer, amount').waitFor();
  assert.match(await input.locator('option:checked').textContent(), /four-orders\.csv \(4 rows\)/);
  await dialog.getByLabel('Time limit (seconds)').fill('120');
  await shot(page, '15-debug-dialog');

  const started = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/jobs/${job.body.id}/debug`));
  await dialog.getByRole('button', { name: 'Start' }).click();
  const response = await started;
  const body = await response.json();
  assert.equal(response.status(), 202, JSON.stringify(body));
  made.runId = body.id;
  await dialog.waitFor({ state: 'detached' });

  // The count per customer as it changes, until the sample runs out.
  const outcome = page.getByTestId('debug-outcome');
  await page.waitForFunction(() => /^Ended: /.test(document.querySelector('[data-testid="debug-outcome"]')?.textContent ?? ''), null, { timeout: 150_000 });
  assert.equal(await outcome.textContent(), 'Ended: input exhausted');
  const table = page.getByRole('table', { name: 'Statement 2 · SELECT' });
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({ kind: tr.dataset.kind, cells: [...tr.cells].slice(1).map((c) => c.textContent), marked: tr.className })));
  // The two customers' changes may interleave; each customer's are in order.
  assert.deepEqual(
    rows.filter((r) => r.cells[0] === 'ann').map((r) => `${r.kind} ${r.cells[1]} ${r.marked}`),
    ['+I 1 ', '-U 1 retract', '+U 2 update-after', '-U 2 retract', '+U 3 update-after'],
  );
  assert.deepEqual(rows.filter((r) => r.cells[0] === 'bob').map((r) => `${r.kind} ${r.cells[1]}`), ['+I 1']);
  assert.match(await page.getByTestId('debug-records').textContent(), /^6 records/);
  assert.equal(await page.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
  await shot(page, '16-debug-run');
});
