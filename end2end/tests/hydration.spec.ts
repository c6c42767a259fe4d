// The start page: rendered on the server, then hydrated by the WASM. Clicking the
// sample grid only does anything once hydration happened.
import { test, expect } from '@playwright/test';
import { readServerInfo } from '../helpers/server';

const info = readServerInfo();

// No client certificate in these tests; Chromium's own TLS, the CA not installed.
test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

test('start page is server-rendered, hydrates, and the grid answers clicks', async ({ page }) => {
  const response = await page.goto(info.url + '/');
  expect(response?.status()).toBe(200);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('h1')).toContainText('Sign in with a pattern only you know');
  const preview = page.locator('section.grid-preview');
  await expect(preview).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.wasm-missing')).toBeHidden();

  const cells = page.locator('button.cell');
  await expect(cells).toHaveCount(48);
  const digit = async (i: number) => (await cells.nth(i).locator('.digit').innerText()).trim();
  const [d0, d13] = [await digit(0), await digit(13)];
  await cells.nth(0).click();
  await cells.nth(13).click();
  await cells.nth(0).click();
  const otp = page.locator('output.otp');
  await expect(otp).toHaveText(d0 + d13 + d0);
  await expect(cells.nth(0).locator('.order')).toHaveText('1,3');
  await expect(cells.nth(0)).toHaveClass(/picked/);

  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(otp).toHaveText(d0 + d13);
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(otp).toHaveText('');
  await expect(cells.nth(0)).not.toHaveClass(/picked/);
});

test("inline scripts run only with the nonce of the page's Content-Security-Policy", async ({ page }) => {
  const response = await page.request.get(info.url + '/');
  const csp = response.headers()['content-security-policy'] ?? '';
  const nonce = csp.match(/script-src 'self' 'nonce-([A-Za-z0-9_-]+)'/)?.[1];
  expect(nonce, csp).toBeTruthy();
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  const html = await response.text();
  expect(html).toContain(`nonce="${nonce}"`);
  // Another response gets another nonce.
  const again = (await page.request.get(info.url + '/')).headers()['content-security-policy'];
  expect(again).not.toContain(`'nonce-${nonce}'`);
});

test('without WebAssembly the page says so and the grid stays inert', async ({ page }) => {
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(info.url + '/');
  await expect(page.locator('h1')).toContainText('Sign in with a pattern');
  await expect(page.locator('.wasm-missing')).toBeVisible();
  await expect(page.locator('.wasm-missing')).toContainText('needs WebAssembly');
  await page.locator('button.cell').first().click();
  await expect(page.locator('output.otp')).toHaveText('');
  await expect(page.locator('section.grid-preview')).toHaveAttribute('data-hydrated', 'false');
});

test('Japanese from Accept-Language; the switch is remembered across visits', async ({ browser }) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'ja-JP' });
  const page = await context.newPage();
  await page.goto(info.url + '/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(page.locator('h1')).toContainText('パターンでログイン');
  // Hydration renders the same language the server chose.
  await expect(page.locator('section.grid-preview')).toHaveAttribute('data-hydrated', 'true');
  await page.locator('button.cell').nth(5).click();
  await expect(page.locator('output.otp')).not.toHaveText('');
  await expect(page.getByRole('button', { name: 'クリア' })).toBeVisible();

  await page.getByRole('link', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('h1')).toContainText('Sign in with a pattern');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await context.close();
});

test('an unknown address is a 404 page in the user language', async ({ page }) => {
  const response = await page.goto(info.url + '/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText('Page not found');
});
