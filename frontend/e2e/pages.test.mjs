// End to end through the console's other pages, against a running Sluice (dev identity
// provider; the dev SMTP server when installed): a contact group whose test send
// reaches a real mailbox, an alert rule and a silence, an artifact upload with its
// SHA-256, a connection whose secret is never shown again, then notices, billing, the
// audit log, notification channels and clusters, each screenshotted.
//
//   SLUICE_URL=http://127.0.0.1:18080 SCREENSHOTS_DIR=/tmp/shots node --test e2e/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { api, BASE, launch, shootOpenPages, shot, signIn } from './browser.mjs';

const MAIL = process.env.SMTP_MAIL_FILE;

let browser;
let page;
let projectId;

before(async () => {
  browser = await launch();
});

after(async () => {
  await shootOpenPages(browser, 'zz-pages-last');
  if (page && projectId) {
    const artifacts = await api(page, 'GET', `/projects/${projectId}/artifacts`).catch(() => null);
    for (const a of artifacts?.body?.items ?? []) await api(page, 'DELETE', `/projects/${projectId}/artifacts/${a.id}`).catch(() => undefined);
    const connections = await api(page, 'GET', `/projects/${projectId}/connections`).catch(() => null);
    for (const c of connections?.body?.items ?? []) await api(page, 'DELETE', `/projects/${projectId}/connections/${c.id}`).catch(() => undefined);
    await api(page, 'DELETE', `/projects/${projectId}`).catch(() => undefined);
  }
  await browser?.close();
});

/** Messages the dev SMTP server received for `to`. */
function mailTo(to) {
  if (!MAIL || !existsSync(MAIL)) return [];
  return readFileSync(MAIL, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((m) => m.rcpt_tos.includes(to));
}

test('alerts, artifacts, connections, notices, billing and the audit log work from the browser', { timeout: 300_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await signIn(context, 'carol');
  const created = await api(page, 'POST', '/projects', { name: `pages-${Date.now()}` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  projectId = created.body.id;
  const project = `${BASE}/projects/${projectId}`;

  // A contact group, and a test send that reaches its mailbox.
  await page.goto(`${project}/alerts?tab=groups`);
  await page.getByRole('button', { name: 'New contact group' }).click();
  const groupDialog = page.getByRole('dialog');
  await groupDialog.getByLabel('Name').fill('on-call');
  await groupDialog.getByLabel('Emails').fill('oncall@example.com');
  await groupDialog.getByRole('button', { name: 'Create group' }).click();
  const group = page.getByTestId('group-on-call');
  await group.waitFor();
  await group.getByRole('button', { name: 'Send test' }).click();
  const results = group.getByTestId('test-results');
  await results.waitFor({ timeout: 30_000 });
  if (MAIL) {
    assert.match(await results.textContent(), /1 of 1 destination received the test/);
    assert.equal(mailTo('oncall@example.com').length, 1, 'the test message is in the mailbox');
  } else {
    // No mail server here: the console says why it was not delivered.
    assert.match(await results.textContent(), /Not delivered: .+/);
  }
  await shot(page, '20-contact-groups');

  // A rule that sends to it.
  await page.getByRole('tab', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  const ruleForm = page.getByTestId('alert-rule-form');
  await ruleForm.getByLabel('Name').fill('job down');
  await ruleForm.getByLabel('Condition').selectOption('restarts');
  await page.getByRole('dialog').getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('cell', { name: 'job down', exact: true }).waitFor();
  await shot(page, '21-alert-rules');
  const rules = await api(page, 'GET', `/projects/${projectId}/alert-rules`);
  assert.deepEqual(
    rules.body.map((r) => [r.name, r.condition]),
    [['job down', 'restarts']],
  );
  await page.getByRole('tab', { name: 'Alert history' }).click();
  await shot(page, '22-alert-history');

  // An artifact: uploaded with progress, its SHA-256 the file's own.
  const udf = Buffer.from('def upper(s):\n    return s.upper()\n');
  const sha = createHash('sha256').update(udf).digest('hex');
  await page.goto(`${project}/artifacts`);
  await page.getByLabel('Upload a file').setInputFiles({ name: 'udfs.py', mimeType: 'text/x-python', buffer: udf });
  const done = page.getByTestId('upload-done');
  await done.waitFor();
  assert.match(await done.textContent(), new RegExp(`${sha}.*matches the file you chose`));
  await page.getByTestId('artifacts').getByText('udfs.py').waitFor();
  await shot(page, '23-artifacts');

  // Connections: list and screenshot (their secrets are write-only; the component
  // tests and the API tests cover the form).
  await page.goto(`${project}/connections`);
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
  await shot(page, '24-connections');

  // The account's pages.
  for (const [path, heading, name] of [
    ['/notices', 'Notices', '25-notices'],
    ['/billing', 'Billing', '26-billing'],
    ['/audit', 'Audit log', '27-audit'],
    ['/channels', 'Notification channels', '28-channels'],
    ['/clusters', 'Clusters', '29-clusters'],
  ]) {
    await page.goto(BASE + path);
    await page.getByRole('heading', { name: heading }).first().waitFor();
    assert.equal(await page.locator('.alert.error').count(), 0, `${path} shows no error`);
    await shot(page, name);
  }
  // The audit log lists what this test did, newest first.
  await page.goto(`${BASE}/audit`);
  await page.getByText('create_alert_rule').first().waitFor();
  await context.close();
});
