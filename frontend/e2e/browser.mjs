// What the console's browser tests share: the Sluice under test, Debian's Chromium,
// signing in through the development identity provider's own form, screenshots, and
// API calls made from a signed-in page (its cookies, its origin).
import { mkdirSync } from 'node:fs';
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

export async function shot(page, name) {
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
    for (const [i, p] of ctx.pages().entries()) await shot(p, `${prefix}-${i}`).catch(() => undefined);
}
