// Every page of the console in a window 768 px wide, in Chromium against a running
// Sluice: reached through the folded navigation, nothing wider than the window (wide
// tables scroll in their own box), and each page's main action clicked, or, where a
// click would start something on the engine, shown in the window and enabled.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/narrow.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, launch, removeProject, shootOpenPages, shot, signIn } from './browser.mjs';

const WIDTH = 768;

let browser;
let page;
const projects = [];

before(async () => {
  browser = await launch();
});

after(async () => {
  await shootOpenPages(browser, 'zz-narrow-last');
  if (page) for (const id of projects) await removeProject(page, id);
  await browser?.close();
});

/** Opens the folded navigation and follows one of its links. */
async function navigate(label) {
  const toggle = page.getByRole('button', { name: 'Navigation' });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'the navigation starts folded');
  await toggle.click();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor({ state: 'detached' });
}

/** Nothing on the page is wider than the window: no sideways scrolling of the page. */
async function fits(where) {
  const widths = await page.evaluate(() => {
    const main = document.querySelector('main');
    return { doc: document.documentElement.scrollWidth, main: main ? main.scrollWidth - main.clientWidth : 0 };
  });
  assert.ok(widths.doc <= WIDTH && widths.main <= 0, `${where}: the page is ${widths.doc} px wide (main overflows by ${widths.main} px) in a ${WIDTH} px window`);
}

/** The button (or link) is inside the window, shown and enabled. */
async function usable(locator, what) {
  await locator.waitFor();
  const box = await locator.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= WIDTH, `${what} is inside the window (${JSON.stringify(box)})`);
  assert.ok(await locator.isEnabled(), `${what} is enabled`);
}

/** The page's check, screenshot and width, once it shows what it should. */
async function done(name) {
  await fits(name);
  await shot(page, `60-narrow-${name}`);
}

test(`every page works in a window ${WIDTH} px wide`, { timeout: 300_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: 1024 } });
  page = await signIn(context, 'ann');

  // Projects: New project, created with Enter.
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await done('projects');
  await page.getByRole('button', { name: 'New project' }).click();
  const newProject = page.getByRole('dialog', { name: 'New project' });
  await newProject.getByLabel('Name').fill(`e2e-768-${Date.now()}`);
  await newProject.getByLabel('Name').press('Enter');
  await page.waitForURL(/\/projects\/[^/]+\/jobs$/);
  const p = new URL(page.url()).pathname.split('/')[2];
  projects.push(p);

  // Jobs: + Job, then the editor's Validate.
  await page.getByRole('button', { name: '+ Job' }).click();
  const newJob = page.getByRole('dialog', { name: 'New job' });
  await newJob.getByLabel('Name').fill('numbers');
  await newJob.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = new URL(page.url()).pathname.split('/')[4];
  await page.locator('.editor-host .cm-content').waitFor();
  await page.getByRole('button', { name: 'Validate' }).click();
  // The starter job is valid: its plan shows.
  await page.getByTestId('plan').waitFor({ timeout: 120_000 });
  await done('editor');

  // A deployment of the job, created and not started: its page's actions stay in the window.
  const version = await api(page, 'POST', `/projects/${p}/jobs/${jobId}/versions`, { message: 'narrow' });
  assert.equal(version.status, 201, JSON.stringify(version.body));
  const dep = await api(page, 'POST', `/projects/${p}/deployments`, { name: 'numbers-with-a-rather-long-deployment-name', job_id: jobId });
  assert.equal(dep.status, 201, JSON.stringify(dep.body));

  // Deployments: the list, its deployment followed.
  await navigate('Deployments');
  const row = page.getByTestId('deployments').getByRole('link', { name: dep.body.name });
  await usable(row, 'the deployment in the list');
  await done('deployments');
  await row.click();
  await page.getByTestId('deployment-status').waitFor();
  // Starting would run it on the engine: shown and enabled, not clicked. Every header
  // action is inside the window, wrapped rather than cut off.
  await usable(page.getByRole('button', { name: 'Start', exact: true }), 'Start');
  for (const b of await page.locator('.page-head button').all()) {
    const box = await b.boundingBox();
    assert.ok(box && box.x + box.width <= WIDTH, `${await b.textContent()} is inside the window (${JSON.stringify(box)})`);
  }
  await page.getByRole('tab', { name: 'Events' }).click();
  await page.getByTestId('events').waitFor();
  await done('deployment');

  // Artifacts: a file uploaded.
  await navigate('Artifacts');
  await page.getByLabel('Upload a file').setInputFiles({ name: 'udfs.py', mimeType: 'text/x-python', buffer: Buffer.from('def f(s):\n    return s\n') });
  await page.getByTestId('upload-done').waitFor();
  await page.getByTestId('artifacts').getByText('udfs.py').waitFor();
  await done('artifacts');

  // Connections: New connection, created with Enter.
  await navigate('Connections');
  await page.getByRole('button', { name: 'New connection' }).click();
  const conn = page.getByRole('dialog', { name: 'New connection' });
  await conn.getByLabel('Name').fill('events');
  await conn.getByLabel('properties.bootstrap.servers value').fill('kafka:9092');
  await shot(page, '60-narrow-connection-dialog');
  await conn.getByLabel('Name').press('Enter');
  await conn.waitFor({ state: 'detached' });
  await page.getByTestId('connections').getByText('events').waitFor();
  await done('connections');

  // Members: someone added.
  await navigate('Members');
  await page.getByLabel('Email').fill('dave@example.com');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.locator('[data-testid="invitations"] tr, [data-testid="members"] tr', { hasText: 'dave@example.com' }).first().waitFor();
  await done('members');

  // Alerts: the New rule dialog opens (and is left with Escape).
  await navigate('Alerts');
  await page.getByRole('tab', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  const rule = page.getByRole('dialog');
  await rule.waitFor();
  await fits('alert rule dialog');
  await page.keyboard.press('Escape');
  await rule.waitFor({ state: 'detached' });
  await done('alerts');

  // The project's audit: filtered by an operation.
  await navigate('Audit');
  await page.getByLabel('Operation').fill('create_connection');
  await page.getByText('create_connection').first().waitFor();
  await done('project-audit');

  // The account's pages.
  await navigate('Billing');
  await page.getByRole('heading', { name: 'Billing' }).first().waitFor();
  const tabs = page.getByRole('tab');
  await tabs.last().click();
  await done('billing');

  await navigate('Notices');
  await page.getByRole('heading', { name: 'Notices' }).waitFor();
  await page.getByLabel('Show').selectOption('unread');
  await done('notices');

  await navigate('Audit log');
  await page.getByLabel('Operation').fill('create_project');
  await page.getByText('create_project').first().waitFor();
  await done('audit');

  await navigate('Notification channels');
  await page.getByRole('button', { name: 'New channel' }).click();
  const channel = page.getByRole('dialog');
  await channel.waitFor();
  await fits('channel dialog');
  await page.keyboard.press('Escape');
  await channel.waitFor({ state: 'detached' });
  await done('channels');

  await navigate('Clusters');
  await page.getByTestId('clusters').locator('tbody tr').first().waitFor();
  await done('clusters');

  await navigate('Projects');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await usable(page.getByRole('button', { name: 'New project' }), 'New project');
});
