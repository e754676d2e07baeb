// End to end through what makes the console a daily tool, against a running Sluice: an
// alert rule started with no contact group leads to making one, counts in the right
// number, a connection name checked as the server checks names, lifecycle stages and
// the management fee in words, and completion in the SQL editor. Each screenshotted.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/daily.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, launch, shootOpenPages, shot, signIn } from './browser.mjs';

const SQL = `CREATE TEMPORARY TABLE orders (id BIGINT, amount DOUBLE) WITH ('connector'='datagen');
CREATE TEMPORARY TABLE snk (id BIGINT, amount DOUBLE) WITH ('connector'='blackhole');
`;

let browser;
let page;
let projectId;

before(async () => {
  browser = await launch();
});

after(async () => {
  await shootOpenPages(browser, 'zz-daily-last');
  if (page && projectId) {
    const p = `/projects/${projectId}`;
    const jobs = await api(page, 'GET', `${p}/jobs`).catch(() => null);
    for (const j of jobs?.body?.items ?? []) await api(page, 'DELETE', `${p}/jobs/${j.id}`).catch(() => undefined);
    const connections = await api(page, 'GET', `${p}/connections`).catch(() => null);
    for (const c of connections?.body?.items ?? []) await api(page, 'DELETE', `${p}/connections/${c.id}`).catch(() => undefined);
    await api(page, 'DELETE', p).catch(() => undefined);
  }
  await browser?.close();
});

test('contact groups, names, lifecycle stages, billing and completion say what they mean', { timeout: 180_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await signIn(context, 'dave');
  const created = await api(page, 'POST', '/projects', { name: `daily-${Date.now()}` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  projectId = created.body.id;
  const project = `${BASE}/projects/${projectId}`;

  // A first rule in a project with no contact group: the dialog says where groups are
  // made, and the link opens the group form.
  await page.goto(`${project}/alerts?tab=rules`);
  await page.getByRole('button', { name: 'New rule' }).click();
  const ruleDialog = page.getByRole('dialog', { name: 'New alert rule' });
  const none = ruleDialog.getByTestId('no-contact-groups');
  await none.waitFor();
  assert.match(await none.textContent(), /this project has none yet/);
  await shot(page, '30-alert-rule-no-group');
  await none.getByRole('link', { name: 'Create a contact group' }).click();
  const groupDialog = page.getByRole('dialog', { name: 'New contact group' });
  await groupDialog.getByLabel('Name').fill('on-call');
  await groupDialog.getByLabel('Emails').fill('oncall@example.com');
  await groupDialog.getByRole('button', { name: 'Create group' }).click();
  await page.getByTestId('group-on-call').waitFor();

  // Back to the rule: the group is there to choose, and the group counts its one rule.
  await page.getByRole('tab', { name: /Rules/ }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  const again = page.getByRole('dialog', { name: 'New alert rule' });
  await again.getByLabel('Name').fill('job down');
  assert.equal(await again.getByLabel('Contact group').inputValue(), (await api(page, 'GET', `/projects/${projectId}/contact-groups`)).body[0].id);
  await again.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('cell', { name: 'job down', exact: true }).waitFor();
  await page.getByRole('tab', { name: /Contact groups/ }).click();
  assert.match(await page.getByTestId('group-on-call').textContent(), /1 rule sends to it/);

  // A connection name: the server's rule for every name, in words as it is typed.
  await page.goto(`${project}/connections`);
  await page.getByRole('button', { name: 'New connection' }).click();
  const connection = page.getByRole('dialog', { name: 'New connection' });
  const name = connection.getByLabel('Name');
  await name.fill('kafka/prod');
  await connection.getByText('A name cannot contain / or \\.').waitFor();
  await shot(page, '31-connection-name');
  await name.fill('kafka prod');
  assert.equal(await name.getAttribute('aria-invalid'), 'false');
  await connection.getByRole('button', { name: 'Create connection' }).click();
  await page.getByTestId('connections').getByText('kafka prod', { exact: true }).waitFor();

  // The lifecycle stages spelt out.
  await page.goto(`${BASE}/notices?tab=engines`);
  const legend = page.getByTestId('stage-legend');
  await legend.waitFor();
  assert.match(await legend.textContent(), /EOFSend of full support/);
  await shot(page, '32-engine-versions');

  // Billing: the fee in words; no Top up where the server takes none (this one's default).
  await page.goto(`${BASE}/billing`);
  // This server's rule is the default: every hour of a pay-as-you-go project.
  assert.match(await page.getByTestId('management-fee').textContent(), /Management fee: a fixed .+ for each hour of a pay-as-you-go project, whether anything runs or not/);
  await page.getByTestId('no-top-ups').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Top up' }).count(), 0);

  // Completion in the editor: the draft's own tables where a table goes, taken with Enter.
  const job = await api(page, 'POST', `/projects/${projectId}/jobs`, { name: 'orders', content: { kind: 'sql', sql: SQL } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  await page.goto(`${project}/jobs/${job.body.id}`);
  await page.locator('.editor-host .cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('INSERT INTO snk SELECT id, amount FROM ord');
  const list = page.locator('.cm-tooltip-autocomplete');
  await list.waitFor();
  assert.match((await list.locator('li').first().textContent()) ?? '', /^orderstable in this draft/);
  await shot(page, '33-editor-completion');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent?.endsWith('FROM orders'));
  // Saved, so leaving the page asks nothing.
  await page.keyboard.press('Control+S');
  await page.getByTestId('dirty').waitFor({ state: 'detached' });
  await context.close();
});
