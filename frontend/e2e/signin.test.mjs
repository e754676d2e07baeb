// A sign-in that fails lands a person on the console's sign-in page, told what happened
// and offered to try again (not on a page of raw JSON): here an email address the
// identity provider has not verified.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, shot } from './browser.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('a failed sign-in says why and offers to try again', { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(BASE + '/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Login').fill('unverified');
  await page.getByLabel('Password').fill('any-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(BASE) && u.searchParams.has('sign_in_error'));
  const url = new URL(page.url());
  assert.equal(url.pathname, '/');
  assert.equal(url.searchParams.get('sign_in_error'), 'email_not_verified');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Sign-in did not complete/);
  assert.match(await alert.innerText(), /has not verified your email address/);
  await shot(page, 'signin-error');
  // Trying again starts a new sign-in (the provider, still holding her session there,
  // sends her straight back: with the same answer, since nothing changed).
  const [retry] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(`${BASE}/api/v1/auth/login`)),
    page.getByRole('link', { name: 'Try again' }).click(),
  ]);
  assert.equal(new URL(retry.url()).searchParams.get('return_to'), '/');
  await context.close();
});
