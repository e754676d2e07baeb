// End to end through the console against a running Sluice (dev identity provider and
// a real Flink): sign in, write and validate SQL, version, deploy, savepoint, stop,
// usage on billing, then a viewer who may read but not deploy.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, launch, shootOpenPages, shot, signIn } from './browser.mjs';

const BAD_SQL = `CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector'='datagen','rows-per-second'='5');
CREATE TEMPORARY TABLE snk (n BIGINT) WITH ('connector'='blackhole');
INSERT INTO snk SELEC n FROM src;
`;
const GOOD_SQL = `CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector'='datagen','rows-per-second'='5');
CREATE TEMPORARY TABLE snk (n BIGINT) WITH ('connector'='blackhole');
INSERT INTO snk SELECT n FROM src;
`;
const FASTER_SQL = GOOD_SQL.replace("'rows-per-second'='5'", "'rows-per-second'='10'");

let browser;
/** What the test started, so it is stopped and removed whatever happens. */
const started = { projectId: undefined, deploymentId: undefined, otherProjects: [] };
let annPage;

/** Replaces the editor's whole text, as a person would with select-all and paste. */
async function setEditorText(page, text) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

before(async () => {
  browser = await launch();
});

after(async () => {
  // Whatever page was open when a step failed, for the one reading the failure.
  await shootOpenPages(browser, 'zz-last');
  // Stop and remove what this run created, even after a failure.
  if (annPage && started.projectId) {
    const p = started.projectId;
    if (started.deploymentId) {
      const d = `/projects/${p}/deployments/${started.deploymentId}`;
      const cur = await api(annPage, 'GET', d).catch(() => null);
      if (cur?.body?.desired_state === 'RUNNING') {
        await api(annPage, 'POST', d + '/stop', { mode: 'CANCEL' });
        for (let i = 0; i < 60; i++) {
          const s = await api(annPage, 'GET', d);
          if (!['RUNNING', 'STOPPING', 'STARTING', 'TRANSITIONING'].includes(s.body?.status)) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      await api(annPage, 'DELETE', d).catch(() => undefined);
    }
    const jobs = await api(annPage, 'GET', `/projects/${p}/jobs`).catch(() => null);
    for (const j of jobs?.body?.items ?? []) await api(annPage, 'DELETE', `/projects/${p}/jobs/${j.id}`).catch(() => undefined);
    const del = await api(annPage, 'DELETE', `/projects/${p}`).catch(() => null);
    if (del && del.status >= 300) console.error('could not delete the e2e project:', del.status, JSON.stringify(del.body));
  }
  for (const id of started.otherProjects) {
    const jobs = await api(annPage, 'GET', `/projects/${id}/jobs`).catch(() => null);
    for (const j of jobs?.body?.items ?? []) await api(annPage, 'DELETE', `/projects/${id}/jobs/${j.id}`).catch(() => undefined);
    const folders = await api(annPage, 'GET', `/projects/${id}/folders`).catch(() => null);
    // Children first: folders that hold folders cannot be deleted.
    for (const f of (folders?.body?.items ?? []).reverse()) await api(annPage, 'DELETE', `/projects/${id}/folders/${f.id}`).catch(() => undefined);
    await api(annPage, 'DELETE', `/projects/${id}`).catch(() => undefined);
  }
  await browser?.close();
});

test('a data engineer writes, validates, versions, deploys, resumes from a savepoint, upgrades from the editor and stops a job; a viewer cannot deploy', { timeout: 600_000 }, async () => {
  // Sign in as ann through the real provider.
  const annContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  {
    const p = await annContext.newPage();
    await p.goto(BASE + '/');
    await p.getByRole('link', { name: 'Sign in' }).waitFor();
    await shot(p, '01-sign-in');
    await p.close();
  }
  const page = await signIn(annContext, 'ann');
  annPage = page;
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  assert.match(await page.getByTestId('usage-projects').textContent(), /^\d+ \/ \d+ projects$/);
  await shot(page, '02-projects');

  // Create a project.
  const projectName = `e2e-${Date.now()}`;
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill(projectName);
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/projects\/[^/]+\/jobs$/);
  started.projectId = new URL(page.url()).pathname.split('/')[2];
  // The frame names the project, on every page inside it.
  await page.getByTestId('project-bar').filter({ hasText: projectName }).waitFor();

  // A new SQL job.
  await page.getByRole('button', { name: '+ Job' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill('numbers');
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobUrl = page.url();
  const jobId = new URL(jobUrl).pathname.split('/')[4];

  // SQL with a misspelled keyword on line 3: validated and marked there.
  await setEditorText(page, BAD_SQL);
  await page.getByTestId('dirty').waitFor();
  await page.getByRole('button', { name: 'Validate' }).click();
  const problems = page.getByRole('list', { name: 'Validation errors' });
  await problems.waitFor({ timeout: 60_000 });
  assert.match(await problems.textContent(), /Ln 3, Col \d+/);
  const line3 = page.locator('.cm-line').nth(2);
  await line3.locator('.cm-lintRange-error').first().waitFor();
  assert.equal(await page.locator('.cm-line').nth(0).locator('.cm-lintRange-error').count(), 0);
  await shot(page, '03-editor-error');

  // Fixed: valid for Sluice and the engine, with a plan.
  await setEditorText(page, GOOD_SQL);
  await page.getByRole('button', { name: 'Validate' }).click();
  await page.getByTestId('plan').waitFor({ timeout: 120_000 });
  assert.ok((await page.locator('.plan-node').count()) >= 1, 'the plan lists operators');
  await shot(page, '04-editor-plan');
  await page.getByRole('tab', { name: /Problems/ }).click();
  await page.getByText('Valid: Sluice and the engine accept this job.').waitFor();

  // Save a version.
  await page.getByRole('button', { name: 'Save version' }).click();
  await page.getByRole('dialog').getByLabel('What changed').fill('datagen to blackhole');
  await page.getByRole('dialog').getByRole('button', { name: 'Save version' }).click();
  await page.getByText('Saved version v1').waitFor();
  await page.getByRole('tab', { name: 'Versions' }).click();
  await page.getByText('datagen to blackhole').waitFor();
  // v1 against the draft, side by side, after an unsaved edit.
  await page.locator('.cm-content').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('-- draft note\n');
  await page.getByRole('button', { name: 'Compare' }).click();
  const diff = page.getByTestId('diff-view');
  await diff.locator('.cm-mergeViewEditor').nth(1).getByText('-- draft note').waitFor();
  assert.equal(await diff.locator('.cm-mergeViewEditor').count(), 2);
  await shot(page, '05-versions-diff');
  // Back to the saved text, so nothing is unsaved when the deploy dialog opens.
  await page.locator('.editor-host .cm-content').click();
  await page.keyboard.press('Control+Z');
  await page.getByTestId('dirty').waitFor({ state: 'detached' });

  // Deploy: the cost preview prices it before anything runs.
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId('cost-preview').waitFor();
  assert.match(await dialog.getByTestId('cost-preview').textContent(), /per hour running/);
  // The engine version reads as its label and its Flink version; a lifecycle only where one is published.
  const engineVersion = await dialog.getByLabel('Engine version').locator('option:checked').textContent();
  assert.match(engineVersion, /^\S+ · Flink \d+\.\d+\.\d+( · \w+)?$/);
  // Every mistake at once, each under its field; an edited field drops its own.
  await dialog.getByLabel('Deployment name').fill('');
  await dialog.getByLabel('Parallelism').fill('0');
  await dialog.getByRole('button', { name: 'Deploy and start' }).click();
  await dialog.getByText('Name the deployment.').waitFor();
  await dialog.getByText('0 is not a whole number from 1 to 64.').waitFor();
  await dialog.getByLabel('Deployment name').fill('numbers');
  assert.equal(await dialog.getByText('Name the deployment.').count(), 0);
  assert.equal(await dialog.getByText('0 is not a whole number from 1 to 64.').count(), 1);
  await dialog.getByLabel('Parallelism').fill('1');
  assert.equal(await dialog.locator('.field-error').count(), 0);
  // The cluster's health in words. Until the server's first look at the platform's
  // cluster it was never checked: the dialog says what that means and checks it on request.
  const clusterOption = dialog.getByLabel('Engine cluster').locator('option:checked');
  if (/health never checked/.test(await clusterOption.textContent())) {
    assert.match(await dialog.getByTestId('cluster-health-note').textContent(), /Sluice has never checked this cluster/);
    await dialog.getByTestId('cluster-health-note').getByRole('button', { name: 'Check now' }).click();
  }
  await dialog.getByLabel('Engine cluster').locator('option:checked', { hasText: ' · healthy' }).waitFor({ state: 'attached' });
  assert.equal(await dialog.getByTestId('cluster-health-note').count(), 0);
  // Priced for the size as it is now (the price of the last size is dimmed while it is asked for).
  await dialog.locator('[data-testid="cost-preview"][aria-busy="false"]').waitFor();
  await shot(page, '06-deploy-dialog');
  await dialog.getByRole('button', { name: 'Deploy and start' }).click();
  await page.waitForURL(/\/deployments\/[^/]+$/);
  started.deploymentId = new URL(page.url()).pathname.split('/')[4];
  const status = page.getByTestId('deployment-status');
  await status.getByText('RUNNING', { exact: true }).waitFor({ timeout: 150_000 });
  // The page names the job and the version it runs, and the cluster's health.
  assert.equal(await page.getByTestId('deployment-runs').textContent(), 'Runs v1 of job numbers');
  await page.getByTestId('cluster-health').getByText('healthy', { exact: true }).waitFor();
  await shot(page, '07-deployment-running');

  // A savepoint, completed.
  await page.getByRole('button', { name: 'Trigger savepoint' }).click();
  await page.getByRole('tab', { name: 'Savepoints' }).click();
  await page.getByTestId('savepoints').getByText('COMPLETED', { exact: true }).first().waitFor({ timeout: 90_000 });
  await shot(page, '08-savepoint');

  // Stop with a savepoint.
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByRole('dialog').getByLabel(/With a savepoint/).check();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
  await status.getByText(/^(SUSPENDED|FINISHED|STOPPED|CANCELLED)$/).waitFor({ timeout: 120_000 });
  await page.getByRole('tab', { name: 'Events' }).click();
  await page.getByTestId('events').locator('tbody tr').first().waitFor();
  await page.getByRole('tab', { name: 'Metrics' }).click();
  await shot(page, '09-deployment-stopped');

  // Resume from a chosen savepoint: newest first, the stop's preselected, by kind, time
  // and id, with no path of the server's files.
  const deploymentPath = `/projects/${started.projectId}/deployments/${started.deploymentId}`;
  const completed = (await api(page, 'GET', `${deploymentPath}/savepoints`)).body.items.filter((s) => s.state === 'COMPLETED');
  const onStop = completed.find((s) => s.origin === 'SUSPEND');
  assert.ok(onStop && completed.some((s) => s.origin === 'USER_REQUEST'), JSON.stringify(completed));
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const startDialog = page.getByRole('dialog');
  await startDialog.getByLabel('Start mode').selectOption('FROM_SAVEPOINT');
  const chooser = startDialog.getByLabel('Savepoint');
  await chooser.locator('option').nth(1).waitFor({ state: 'attached' });
  const choices = await chooser.locator('option').allTextContents();
  assert.match(choices[0], /^on stop · .+ · #[0-9a-f]{8}$/);
  assert.match(choices[1], /^manual · .+ · #[0-9a-f]{8}$/);
  assert.equal(await chooser.inputValue(), onStop.id);
  assert.ok(!choices.some((c) => /file:|\/tmp\/|\/var\/|\/opt\//.test(c)), choices.join('\n'));
  await shot(page, '17-start-from-savepoint');
  await startDialog.getByRole('button', { name: 'Start', exact: true }).click();
  await status.getByText('RUNNING', { exact: true }).waitFor({ timeout: 150_000 });

  // Deploying again from the editor offers to upgrade the running deployment first.
  await page.getByTestId('deployment-runs').getByRole('link', { name: 'numbers' }).click();
  await page.waitForURL(jobUrl);
  await page.locator('.editor-host .cm-content').waitFor();
  await setEditorText(page, FASTER_SQL);
  await page.getByRole('button', { name: 'Save version' }).click();
  await page.getByRole('dialog').getByLabel('What changed').fill('twice the rows');
  await page.getByRole('dialog').getByRole('button', { name: 'Save version' }).click();
  await page.getByText('Saved version v2').waitFor();
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const again = page.getByRole('dialog');
  const upgradeChoice = again.getByTestId('deploy-target').getByRole('radio', { name: /Upgrade numbers to this version/ });
  await upgradeChoice.waitFor();
  assert.ok(await upgradeChoice.isChecked(), 'the upgrade is the preselected choice');
  assert.equal(await again.getByLabel('Version', { exact: true }).inputValue(), '2');
  await shot(page, '18-deploy-offers-upgrade');
  await again.getByRole('button', { name: 'Upgrade numbers' }).click();
  await page.waitForURL(new RegExp(`/deployments/${started.deploymentId}$`));
  // One deployment of the job, running v2 once its savepoint is taken and v2 resumed from it.
  await page.getByTestId('deployment-runs').getByText('Runs v2 of job numbers').waitFor({ timeout: 150_000 });
  await status.getByText('RUNNING', { exact: true }).waitFor({ timeout: 150_000 });
  const ofJob = await api(page, 'GET', `/projects/${started.projectId}/deployments?job_id=${jobId}`);
  assert.deepEqual(ofJob.body.items.map((d) => [d.id, d.job_version]), [[started.deploymentId, 2]]);
  // The version it runs is linked: v2's text, not the draft's.
  await page.getByTestId('runs-version').click();
  const shown = page.getByRole('dialog', { name: 'numbers v2' });
  await shown.getByTestId('version-content').getByText("'rows-per-second'='10'", { exact: false }).waitFor();
  await shot(page, '19-deployment-version');
  await shown.getByRole('button', { name: 'Close' }).click();

  // The list names each deployment's job and the version it runs.
  await page.goto(`${BASE}/projects/${started.projectId}/deployments`);
  const row = page.getByTestId('deployments').locator('tbody tr', { hasText: 'numbers' });
  await row.getByRole('link', { name: 'v2' }).waitFor();
  assert.equal(await row.locator(`a[href="/projects/${started.projectId}/jobs/${jobId}"]`).textContent(), 'numbers');
  await shot(page, '29-deployments');

  // Stop it again, with a savepoint.
  await page.goto(BASE + deploymentPath);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByRole('dialog').getByLabel(/With a savepoint/).check();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
  await status.getByText(/^(SUSPENDED|FINISHED|STOPPED|CANCELLED)$/).waitFor({ timeout: 120_000 });

  // The run shows as usage on billing.
  // The API has this deployment's CU-hours, and the Billing page shows usage.
  const from = new Date(Date.now() - 86400_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const usage = await api(page, 'GET', `/account/billing/usage?from=${from}&to=${to}&bucket=hour`);
  assert.equal(usage.status, 200, JSON.stringify(usage.body));
  const mine = usage.body.filter((u) => u.deployment_id === started.deploymentId);
  assert.ok(mine.reduce((sum, u) => sum + Number(u.cu_hours), 0) > 0, 'CU-hours were recorded for the deployment');
  await page.getByRole('link', { name: 'Billing' }).click();
  const total = page.getByTestId('usage-total');
  await total.waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="usage-total"]')?.textContent?.replace(/[^\d.]/g, '')) > 0);
  await shot(page, '10-billing');

  // Ann adds bob as a viewer on the Members page.
  await page.goto(`${BASE}/projects/${started.projectId}/members`);
  await page.getByLabel('Email').fill('bob@example.com');
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Add' }).click();
  // Invited (bob has never signed in) or added at once (he is in the account already).
  await page.locator('[data-testid="invitations"] tr, [data-testid="members"] tr', { hasText: 'bob@example.com' }).first().waitFor();
  await shot(page, '11-members');

  // Bob, in his own browser context: sees the job, cannot deploy.
  const bobContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const bob = await signIn(bobContext, 'bob');
    await bob.goto(jobUrl);
    await bob.getByTestId('job-title').getByText('numbers').waitFor();
    await bob.getByTestId('tree-job-numbers').waitFor();
    await bob.getByText('read only').waitFor();
    assert.equal(await bob.getByRole('button', { name: 'Deploy', exact: true }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Save', exact: true }).count(), 0);
    await shot(bob, '12-viewer-job');
    await bob.goto(`${BASE}/projects/${started.projectId}/deployments/${started.deploymentId}`);
    await bob.getByTestId('deployment-status').waitFor();
    assert.equal(await bob.getByRole('button', { name: 'Start', exact: true }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
    const denied = await api(bob, 'POST', `/projects/${started.projectId}/deployments`, { name: 'bob-try', job_id: jobId });
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
  } finally {
    await bobContext.close();
  }
});

test('folders: create, move a job by menu and by dragging, rename, delete with confirmation; the project switcher', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await signIn(context, 'ann');
  annPage ??= page;
  const project = await api(page, 'POST', '/projects', { name: `e2e-tree-${Date.now()}` });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  started.otherProjects.push(project.body.id);
  const p = project.body.id;
  await page.goto(`${BASE}/projects/${p}/jobs`);

  // Two folders at the root and a job.
  for (const name of ['ingest', 'archive']) {
    await page.getByRole('button', { name: '+ Folder' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill(name);
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('treeitem', { name: new RegExp(name) }).waitFor();
  }
  await page.getByRole('button', { name: '+ Job' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill('orders');
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = new URL(page.url()).pathname.split('/')[4];
  const folderId = async (name) => (await api(page, 'GET', `/projects/${p}/folders`)).body.items.find((f) => f.name === name).id;

  // Move by menu into "ingest".
  await page.getByTestId('tree-job-orders').hover();
  await page.getByRole('button', { name: 'Actions for job orders' }).click();
  await page.getByRole('menuitem', { name: 'Move to…' }).click();
  await page.getByRole('dialog').getByLabel('Destination').selectOption({ label: 'ingest' });
  await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal((await api(page, 'GET', `/projects/${p}/jobs/${jobId}`)).body.folder_id, await folderId('ingest'));

  // Drag it onto "archive".
  await page.getByTestId('tree-job-orders').dragTo(page.getByRole('treeitem', { name: /archive/ }));
  await page.waitForFunction(
    async ([p, j, f]) => (await (await fetch(`/api/v1/projects/${p}/jobs/${j}`)).json()).folder_id === f,
    [p, jobId, await folderId('archive')],
  );

  // Rename a folder, then delete the empty one after confirming.
  await page.getByRole('treeitem', { name: /ingest/ }).hover();
  await page.getByRole('button', { name: 'Actions for folder ingest' }).click();
  await page.getByRole('menuitem', { name: 'Rename' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill('raw');
  await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('treeitem', { name: /raw/ }).waitFor();
  await shot(page, '13-folders');
  await page.getByRole('treeitem', { name: /raw/ }).hover();
  await page.getByRole('button', { name: 'Actions for folder raw' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('treeitem', { name: /raw/ }).waitFor({ state: 'detached' });
  assert.deepEqual((await api(page, 'GET', `/projects/${p}/folders`)).body.items.map((f) => f.name), ['archive']);
  // The tree still has the job, under archive, and its editor stayed open.
  await page.getByTestId('tree-job-orders').waitFor();
  assert.equal(await page.getByTestId('job-title').textContent(), 'orders');

  // The frame's switcher goes to the same section of another of the account's projects.
  const otherName = `e2e-other-${Date.now()}`;
  const other = await api(page, 'POST', '/projects', { name: otherName });
  assert.equal(other.status, 201, JSON.stringify(other.body));
  started.otherProjects.push(other.body.id);
  await page.reload();
  const switcher = page.getByTestId('project-bar').getByRole('combobox', { name: 'Project' });
  await switcher.locator('option', { hasText: otherName }).waitFor({ state: 'attached' });
  assert.equal(await switcher.inputValue(), p);
  await switcher.selectOption({ label: otherName });
  await page.waitForURL(`${BASE}/projects/${other.body.id}/jobs`);
  await page.getByRole('heading', { name: otherName }).waitFor();
  assert.equal(await switcher.inputValue(), other.body.id);
  // The context stays open: cleanup may sign its requests with this page; closing the browser ends it.
});

test('in a window of 1024 or 768 px the references start hidden and open under the SQL editor, which keeps its width', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await signIn(context, 'ann');
  annPage ??= page;
  const project = await api(page, 'POST', '/projects', { name: `e2e-narrow-${Date.now()}` });
  assert.equal(project.status, 201, JSON.stringify(project.body));
  started.otherProjects.push(project.body.id);
  const job = await api(page, 'POST', `/projects/${project.body.id}/jobs`, { name: 'narrow', content: { kind: 'sql', sql: GOOD_SQL } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const box = async (selector) => (await page.locator(selector).boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };

  for (const [w, h] of [[1024, 768], [768, 1024]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(`${BASE}/projects/${project.body.id}/jobs/${job.body.id}`);
    await page.locator('.editor-host .cm-content').waitFor();
    // Beside the navigation and the job tree the panel starts hidden, one click away.
    assert.equal(await page.getByRole('complementary', { name: 'References' }).count(), 0, `${w} px: references start hidden`);
    const pane = await box('.editor-main');
    assert.ok((await box('.editor-host')).width >= pane.width - 40, `${w} px: the editor has the pane's width`);
    for (const name of ['Validate', 'Save version', 'Deploy']) assert.ok(await page.getByRole('button', { name, exact: true }).isVisible(), `${w} px: ${name} is visible`);

    // Opened, the panel goes under the editor, both at the pane's full width, its names
    // and its Hide button in view; the editor still takes typing.
    await page.getByRole('button', { name: 'Show references' }).click();
    const panel = page.getByRole('complementary', { name: 'References' });
    const datagen = panel.getByRole('button', { name: "Insert 'connector' = 'datagen'" });
    await datagen.waitFor();
    const [editor, side] = [await box('.editor-host'), await box('.side-panel')];
    assert.ok(editor.width >= pane.width - 2 && side.width >= pane.width - 2, `${w} px: editor and references are ${editor.width} and ${side.width} px wide of ${pane.width}`);
    assert.ok(side.y >= editor.y + editor.height - 1, `${w} px: the references are under the editor`);
    assert.ok(editor.height >= 150, `${w} px: the editor keeps ${editor.height} px of height`);
    assert.ok((await datagen.locator('.mono').boundingBox()).width > 40, `${w} px: the names show`);
    const hide = await panel.getByRole('button', { name: 'Hide references' }).boundingBox();
    assert.ok(hide && hide.x + hide.width <= w, `${w} px: Hide references is in view`);
    await page.locator('.editor-host .cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(`-- at ${w} px\n`);
    await page.locator('.editor-host .cm-line', { hasText: `-- at ${w} px` }).waitFor();
    await shot(page, `14-editor-references-${w}`);
    // Undone, so leaving for the next width does not ask about unsaved changes.
    await page.keyboard.press('Control+Z');
    await page.getByTestId('dirty').waitFor({ state: 'detached' });
  }
});
