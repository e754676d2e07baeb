// What the console's browser tests share: the Sluice under test, Debian's Chromium,
// signing in through the development identity provider's own form, an accessibility
// check of each page shown, screenshots, and API calls made from a signed-in page (its
// cookies, its origin).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = (process.env.SLUICE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS_DIR;
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

/** Playwright's own browser download is not available: Debian's Chromium it is. */
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now (dialogs and menus open included) and fails on
 * any serious or critical violation, naming the rule and the elements.
 */
export async function checkAccessible(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}${n.failureSummary ? ' — ' + n.failureSummary.split('\n').slice(1).join(' ').trim() : ''}`).join('\n    ')}`);
  });
  assert.deepEqual(violations, [], `${where}: accessibility violations in ${page.url()}\n  ${violations.join('\n  ')}`);
}

/** Checks the page (see checkAccessible), then screenshots it when SCREENSHOTS_DIR is set. */
export async function shot(page, name, { check = true } = {}) {
  if (check) await checkAccessible(page, name);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs `login` in through the real provider; returns the console's page. */
export async function signIn(context, login) {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(BASE + '/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  // The identity provider's own form.
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill('any-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(BASE) && !u.pathname.startsWith('/api/'));
  await page.getByRole('button', { name: 'User menu' }).waitFor();
  return page;
}

export async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const r = await fetch('/api/v1' + path, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

/** Screenshots of every open page, for whoever reads a failure. */
export async function shootOpenPages(browser, prefix) {
  for (const ctx of browser?.contexts() ?? [])
    for (const [i, p] of ctx.pages().entries()) await shot(p, `${prefix}-${i}`, { check: false }).catch(() => undefined);
}

/**
 * Removes a project a test made and what it holds: deployments (never started here),
 * jobs, folders (children first), connections and artifacts, then the project.
 */
export async function removeProject(page, id) {
  const items = async (path) => {
    const r = await api(page, 'GET', `/projects/${id}/${path}`).catch(() => null);
    return r?.body?.items ?? [];
  };
  for (const d of await items('deployments')) await api(page, 'DELETE', `/projects/${id}/deployments/${d.id}`).catch(() => undefined);
  for (const j of await items('jobs')) await api(page, 'DELETE', `/projects/${id}/jobs/${j.id}`).catch(() => undefined);
  for (const f of (await items('folders')).reverse()) await api(page, 'DELETE', `/projects/${id}/folders/${f.id}`).catch(() => undefined);
  for (const c of await items('connections')) await api(page, 'DELETE', `/projects/${id}/connections/${c.id}`).catch(() => undefined);
  for (const a of await items('artifacts')) await api(page, 'DELETE', `/projects/${id}/artifacts/${a.id}`).catch(() => undefined);
  const del = await api(page, 'DELETE', `/projects/${id}`).catch(() => null);
  if (del && del.status >= 300) console.error(`could not delete project ${id}:`, del.status, JSON.stringify(del.body));
}

/** The element that has focus, described: its role and accessible name, or its text. */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const label = el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent;
    return `${el.getAttribute('role') ?? el.tagName.toLowerCase()}: ${label?.trim()}`;
  });
}
