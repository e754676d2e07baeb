// The console from the keyboard alone, in Chromium against a running Sluice: a project
// and a connection created with Enter, the job tree walked with Tab and the arrow keys,
// an item's menu opened and chosen from, and dialogs (the deploy dialog among them)
// taking focus, keeping Tab inside and giving focus back when they close.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/keyboard.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, focused, launch, removeProject, shootOpenPages, shot, signIn } from './browser.mjs';

const SQL = `CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector'='datagen');
CREATE TEMPORARY TABLE snk (n BIGINT) WITH ('connector'='blackhole');
INSERT INTO snk SELECT n FROM src;
`;

let browser;
let page;
const projects = [];

before(async () => {
  browser = await launch();
});

after(async () => {
  await shootOpenPages(browser, 'zz-keyboard-last');
  if (page) for (const id of projects) await removeProject(page, id);
  await browser?.close();
});

/** Whether focus is inside the open dialog. */
const inDialog = (page) => page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'));

test('a project, a connection, the job tree and its menus, and the deploy dialog, from the keyboard alone', { timeout: 180_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await signIn(context, 'ann');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();

  // New project: the dialog takes focus in Name; Enter in Description creates it.
  const name = `e2e-keys-${Date.now()}`;
  await page.getByRole('button', { name: 'New project' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.waitFor();
  assert.equal(await focused(page), 'input: Name');
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'input: Description');
  await page.keyboard.type('made from the keyboard');
  // Tab goes round the dialog's fields and buttons, never to the page behind it.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inDialog(page), `Tab ${i + 1} stays in the dialog (at ${await focused(page)})`);
  }
  await shot(page, '50-keyboard-new-project');
  await dialog.getByLabel('Description').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/projects\/[^/]+\/jobs$/);
  const p = new URL(page.url()).pathname.split('/')[2];
  projects.push(p);

  // A folder with a job in it, and a saved version of the job to deploy.
  const folder = await api(page, 'POST', `/projects/${p}/folders`, { name: 'ingest' });
  assert.equal(folder.status, 201, JSON.stringify(folder.body));
  const job = await api(page, 'POST', `/projects/${p}/jobs`, { name: 'orders', folder_id: folder.body.id, content: { kind: 'sql', sql: SQL } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const version = await api(page, 'POST', `/projects/${p}/jobs/${job.body.id}/versions`, { message: 'first' });
  assert.equal(version.status, 201, JSON.stringify(version.body));
  await page.reload();
  await page.getByRole('treeitem', { name: 'ingest' }).waitFor();

  // The tree is one tab stop after the buttons above it; Down goes to the job inside.
  await page.getByRole('button', { name: '+ Folder' }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'treeitem: ingest');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(page), 'treeitem: SQL orders');
  // Its menu button shows while the item has focus, not only under the mouse.
  const more = page.getByRole('button', { name: 'Actions for job orders' });
  assert.equal(await more.evaluate((b) => getComputedStyle(b).opacity), '1');
  assert.equal(await page.getByRole('button', { name: 'Actions for folder ingest' }).evaluate((b) => getComputedStyle(b).opacity), '0');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'button: Actions for job orders');
  await page.keyboard.press('Enter');
  const menu = page.getByRole('menu', { name: 'Actions for job orders' });
  await menu.waitFor();
  assert.equal(await focused(page), 'menuitem: Rename');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(page), 'menuitem: Move to…');
  await shot(page, '51-keyboard-tree-menu');
  await page.keyboard.press('Enter');
  const move = page.getByRole('dialog', { name: 'Move orders' });
  await move.waitFor();
  assert.equal(await focused(page), 'select: Destination');
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Shift+Tab');
    assert.ok(await inDialog(page), `Shift+Tab ${i + 1} stays in the dialog`);
  }
  await page.keyboard.press('Escape');
  await move.waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'button: Actions for job orders');

  // Shift+Tab back to the item; Enter opens the job's editor.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'treeitem: SQL orders');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/jobs/${job.body.id}$`));
  await page.getByTestId('job-title').getByText('orders').waitFor();

  // The deploy dialog takes focus when it opens and gives it back when it closes.
  const deploy = page.getByRole('button', { name: 'Deploy', exact: true });
  await deploy.focus();
  await page.keyboard.press('Enter');
  const deployDialog = page.getByRole('dialog', { name: /^Deploy/ });
  await deployDialog.waitFor();
  await page.waitForFunction(() => !!document.activeElement?.closest('[role="dialog"]'));
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inDialog(page), `Tab ${i + 1} stays in the deploy dialog (at ${await focused(page)})`);
  }
  await shot(page, '52-keyboard-deploy-dialog');
  await page.keyboard.press('Escape');
  await deployDialog.waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'button: Deploy');
  assert.equal((await api(page, 'GET', `/projects/${p}/deployments`)).body.items.length, 0, 'nothing was deployed');

  // New connection: Enter in a property's value creates it.
  await page.goto(`${BASE}/projects/${p}/connections`);
  await page.getByRole('button', { name: 'New connection' }).focus();
  await page.keyboard.press('Enter');
  const conn = page.getByRole('dialog', { name: 'New connection' });
  await conn.waitFor();
  assert.equal(await focused(page), 'input: Name');
  await page.keyboard.type('events');
  await conn.getByLabel('properties.bootstrap.servers value').focus();
  await page.keyboard.type('kafka:9092');
  await page.keyboard.press('Enter');
  await conn.waitFor({ state: 'detached' });
  await page.getByTestId('connections').getByText('events').waitFor();
  const made = (await api(page, 'GET', `/projects/${p}/connections`)).body.items.map((c) => [c.name, c.properties]);
  assert.deepEqual(made, [['events', { 'properties.bootstrap.servers': 'kafka:9092' }]]);
  assert.equal(await focused(page), 'button: New connection');
  await shot(page, '53-keyboard-connections');
});
