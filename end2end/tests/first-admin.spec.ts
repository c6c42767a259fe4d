// The first administrator signs in (issue #13, item 11): from the set-up link the
// server printed at its first start to the console, using only what the pages show —
// the initial pattern read off the set-up page's picture, the digits read off the
// grid, an own pattern drawn and confirmed, then the console. Where the policy asks
// for a certificate, the first sign-in offers one for the device like any user's.
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { test, expect, Page, TestInfo } from '@playwright/test';
import { expectAccessible, readOtp, screenshot } from '../helpers/people';
import { passgrid, startServer, ServerInfo } from '../helpers/server';

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

const servers: ChildProcess[] = [];

/** A server of its own: its set-up link is unused. */
async function freshServer(name: string): Promise<ServerInfo> {
  const logFile = path.join(__dirname, '..', 'test-results', `server-${name}.log`);
  const { info, child } = await startServer(logFile);
  servers.push(child);
  expect(info.setupLink, 'first start prints a set-up link').toBeTruthy();
  return info;
}

test.afterAll(() => {
  for (const child of servers) child.kill('SIGTERM');
});

test.afterEach(async ({ page }, testInfo: TestInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    await page.screenshot({ path: testInfo.outputPath('failure.png'), fullPage: true }).catch(() => {});
  }
});

/** Fills the set-up form and returns the pattern the next page shows, in order. */
async function createFirstAdmin(page: Page, info: ServerInfo, id: string): Promise<number[]> {
  await page.goto(info.setupLink!);
  await expect(page.locator('h1')).toHaveText('Create the first administrator');
  await page.getByLabel('Administrator user ID').fill(id);
  await page.getByLabel('Display name').fill('First Admin');
  await page.getByLabel('Mail address').fill(`${id}@example.com`);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page).toHaveURL(/\/setup\/done\?t=/);
  await expect(page.locator('h1')).toHaveText('Administrator created');
  await expect(page.locator('.user-id')).toHaveText(id);
  // The numbered picture: each used cell carries its place(s) in the pattern.
  const numbered = await page
    .locator('.pattern-picture td.used')
    .evaluateAll((tds) =>
      tds.flatMap((td) =>
        (td.getAttribute('data-order') ?? '')
          .split(',')
          .filter((o) => o !== '')
          .map((o) => [Number(o), Number(td.getAttribute('data-cell'))]),
      ),
    );
  numbered.sort((a, b) => a[0] - b[0]);
  const cells = numbered.map(([, cell]) => cell);
  expect(cells.length).toBeGreaterThanOrEqual(6);
  // The same pattern as text, row by row: the digit of order 1 sits where cell 1 is.
  const rows = (await page.locator('pre.pattern-rows').innerText()).split('\n').map((r) => r.replace(/ /g, ''));
  const first = cells[0];
  expect(rows[Math.floor(first / 12)][first % 12]).toBe('1');
  await expect(page.getByRole('heading', { name: 'How to sign in' })).toBeVisible();
  return cells;
}

/** Signs in on the sign-in page, reached through the set-up page's own link. */
async function signInFromSetupPage(page: Page, id: string, cells: number[]) {
  await page.locator('a.setup-login').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('User ID').fill(id);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('One-time password').fill(await readOtp(page, cells));
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('from the printed set-up link to the console with the pattern the page showed', async ({ page }) => {
  test.setTimeout(120_000);
  const info = await freshServer('first-admin');
  const cells = await createFirstAdmin(page, info, 'e2e-first');
  await expectAccessible(page, 'set-up done');
  await screenshot(page, 'en-setup-done');
  await expect(page.locator('.setup-certificate')).toHaveCount(0);
  const done = page.url();

  await signInFromSetupPage(page, 'e2e-first', cells);
  // The initial pattern worked: registering one's own comes first.
  await expect(page).toHaveURL(/\/me\/pattern$/);
  const editor = page.locator('form.pattern-editor');
  await expect(editor).toHaveAttribute('data-hydrated', 'true');
  const own = [3, 17, 17, 40, 9, 26, 44];
  for (const c of own) await editor.locator(`[data-cell="${c}"]`).click();
  await expect(editor.locator('.rule')).toHaveCount(0);
  await editor.getByRole('button', { name: /confirm on two grids/ }).click();
  for (const step of ['1', '2']) {
    await expect(page).toHaveURL(new RegExp(`/me/pattern/confirm\\?c=[0-9a-f]{32}&step=${step}$`));
    await page.getByLabel('One-time password').fill(await readOtp(page, own));
    await page.getByRole('button', { name: 'Confirm' }).click();
  }
  await expect(page).toHaveURL(/\/me\?changed=1$/);
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator('.console-nav')).toBeVisible();
  await expect(page.locator('.console-nav')).toContainText('API tokens');

  // The pattern was shown once; the link is spent.
  await page.goto(done);
  await expect(page.getByRole('alert')).toContainText('shown once');
  await expect(page.locator('.pattern-picture')).toHaveCount(0);
  await page.goto(info.setupLink!);
  await expect(page.getByRole('alert')).toContainText('no longer works');
  await expect(page.getByLabel('Administrator user ID')).toHaveCount(0);
});

test('where the policy asks for a certificate, the first administrator is offered one', async ({ page }) => {
  const info = await freshServer('first-admin-cert');
  passgrid(info, ['policy', 'set', 'default', 'require_certificate=true', 'auto_issue_certificate=true']);
  const cells = await createFirstAdmin(page, info, 'e2e-first-cert');
  await expect(page.locator('.setup-certificate')).toContainText('offered one for this device');
  // A device without a certificate: the first sign-in still gets a grid, then the
  // certificate for this device comes first.
  await signInFromSetupPage(page, 'e2e-first-cert', cells);
  await expect(page).toHaveURL(/\/me\/certificate$/);
  await expect(page.getByRole('heading', { name: 'A certificate for this device' })).toBeVisible();
});
