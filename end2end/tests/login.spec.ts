// The grid login in a real browser: the WASM draws the grid from the seed, the user
// reads the digits at the cells of their pattern and types them.
import * as fs from 'node:fs';
import { test, expect, Page } from '@playwright/test';
import { passgrid, readServerInfo } from '../helpers/server';

const info = readServerInfo();
const typed: string[] = [];

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

async function openGrid(page: Page, user: string) {
  await page.goto(info.url + '/login');
  await page.getByLabel('User ID').fill(user);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/\/login\/grid\?c=[0-9a-f]{32}$/);
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
}

async function readOtp(page: Page, cells: number[]) {
  let otp = '';
  for (const c of cells) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
  expect(otp).toMatch(/^[0-9]+$/);
  return otp;
}

test('log in by reading the grid the WASM drew; a wrong OTP fails', async ({ page }) => {
  const added = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-grid', '--name', 'Grid User']));
  const cells: number[] = added.initial_pattern.cells;

  await openGrid(page, 'e2e-grid');
  const otp = await readOtp(page, cells);
  const wrong = otp
    .split('')
    .map((d) => String((Number(d) + 1) % 10))
    .join('');
  typed.push(otp, wrong);
  await page.getByLabel('One-time password').fill(wrong);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/login\?error=failed/);
  await expect(page.getByRole('alert')).toContainText('Sign-in failed');

  // A fresh grid each time: read it again.
  await openGrid(page, 'e2e-grid');
  const otp2 = await readOtp(page, cells);
  typed.push(otp2);
  await page.getByLabel('One-time password').fill(otp2);
  await page.getByRole('button', { name: 'Log in' }).click();
  // Signed in with the initial pattern: registering one's own comes first.
  await expect(page).toHaveURL(/\/me\/pattern$/);
  await expect(page.locator('.must-change')).toBeVisible();
  await page.goto(info.url + '/me');
  await expect(page).toHaveURL(/\/me\/pattern$/);

  // The used grid cannot be replayed.
  await page.goto(info.url + '/login/grid?c=' + '0'.repeat(32));
  await expect(page.getByRole('alert')).toContainText('expired or was already used');

});

test('first login forces pattern registration; the new pattern works on the next login', async ({ page }) => {
  const added = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-newpat']));
  const initial: number[] = added.initial_pattern.cells;
  await openGrid(page, 'e2e-newpat');
  await page.getByLabel('One-time password').fill(await readOtp(page, initial));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/me\/pattern$/);
  const editor = page.locator('form.pattern-editor');
  await expect(editor).toHaveAttribute('data-hydrated', 'true');

  // Live rule feedback: a straight line is refused and the form cannot be sent.
  for (const c of [0, 1, 2, 3, 4, 5]) await editor.locator(`[data-cell="${c}"]`).click();
  await expect(editor.locator('[data-rule="straight_line"]')).toBeVisible();
  await expect(editor.getByRole('button', { name: /confirm on two grids/ })).toBeDisabled();
  await editor.getByRole('button', { name: 'Clear' }).click();
  await expect(editor.locator('[data-rule="too_short"]')).toBeVisible();

  const own = [3, 17, 17, 40, 9, 26, 44];
  for (const c of own) await editor.locator(`[data-cell="${c}"]`).click();
  await expect(editor.locator('[data-cell="17"] .order')).toHaveText('2,3');
  await expect(editor.locator('.rule')).toHaveCount(0);
  // Strength in words with the reason, not in powers of two.
  await expect(editor.locator('.strength')).toHaveAttribute('data-strength', 'fair');
  await expect(editor.locator('.strength-text')).toContainText('Fair: someone who watched you sign in once would still face about 200,000 possible patterns');
  await expect(editor.locator('.strength-text')).not.toContainText('2^');
  await editor.getByRole('button', { name: /confirm on two grids/ }).click();

  for (const step of ['1', '2']) {
    await expect(page).toHaveURL(new RegExp(`/me/pattern/confirm\\?c=[0-9a-f]{32}&step=${step}$`));
    await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
    const otp = await readOtp(page, own);
    typed.push(otp);
    await page.getByLabel('One-time password').fill(otp);
    await page.getByRole('button', { name: 'Confirm' }).click();
  }
  await expect(page).toHaveURL(/\/me\?changed=1$/);
  await expect(page.locator('.pattern-changed')).toBeVisible();
  await expect(page.locator('.must-change')).toHaveCount(0);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(info.url + '/me');
  await expect(page).toHaveURL(/\/login$/);

  // The initial pattern no longer works; the new one does.
  await openGrid(page, 'e2e-newpat');
  await page.getByLabel('One-time password').fill(await readOtp(page, initial));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/login\?error=failed/);
  await openGrid(page, 'e2e-newpat');
  const otp = await readOtp(page, own);
  typed.push(otp);
  await page.getByLabel('One-time password').fill(otp);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/me$/);
  await expect(page.locator('.user-id')).toHaveText('e2e-newpat');
});

test('an unknown user ID gets a grid that looks the same and fails the same', async ({ page }) => {
  await openGrid(page, 'e2e-nobody');
  await expect(page.locator('.login-grid [data-cell]')).toHaveCount(48);
  await page.getByLabel('One-time password').fill('123456');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/login\?error=failed/);
});

test('without WebAssembly the grid page says so and shows no digits', async ({ page }) => {
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(info.url + '/login');
  await page.getByLabel('User ID').fill('e2e-grid');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('.grid-box .wasm-missing')).toBeVisible();
  await expect(page.locator('[data-cell="0"] .digit')).toHaveText('·');
});

test('nothing secret in the server log', async () => {
  const added = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-logcheck']));
  const cells: number[] = added.initial_pattern.cells;
  const log = fs.readFileSync(info.logFile, 'utf8');
  expect(log.length).toBeGreaterThan(0);
  for (const otp of typed) {
    expect(log).not.toContain(`"${otp}"`);
    expect(log).not.toContain(`=${otp}`);
  }
  expect(log).not.toContain(cells.join(','));
  expect(log).not.toContain(added.initial_pattern.text);
  expect(log.toLowerCase()).not.toContain('otp=');
});
