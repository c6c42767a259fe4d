// The one-time link printed at first start creates the first administrator, once.
// A server of its own: on the shared one, administrators made by other specs have
// retired the link already (as they should).
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { test, expect } from '@playwright/test';
import { passgrid, startServer } from '../helpers/server';

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

let server: ChildProcess | undefined;
test.afterAll(() => server?.kill('SIGTERM'));

test('first administrator from the set-up link; the link then stops working', async ({ page }) => {
  const started = await startServer(path.join(__dirname, '..', 'test-results', 'server-setup.log'));
  server = started.child;
  const info = started.info;
  expect(info.setupLink, 'first start prints a set-up link').toBeTruthy();
  await page.goto(info.setupLink!);
  await expect(page.locator('h1')).toHaveText('Create the first administrator');

  // Bad input is refused with a reason and nothing is created.
  await page.getByLabel('Administrator user ID').fill('bad id!');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByRole('alert')).toContainText('A user ID is 1 to 64 characters');
  expect(() => passgrid(info, ['user', 'show', 'bad id!'])).toThrow();

  await page.getByLabel('Administrator user ID').fill('e2e-admin');
  await page.getByLabel('Display name').fill('E2E Admin');
  await page.getByLabel('Mail address').fill('admin@example.com');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('h1')).toHaveText('Administrator created');
  const shown = JSON.parse(passgrid(info, ['--json', 'user', 'show', 'e2e-admin']));
  expect(shown.admin_role).toBe('admin');
  expect(shown.email).toBe('admin@example.com');

  // The same link a second time: it says it no longer works, and offers no form.
  await page.goto(info.setupLink!);
  await expect(page.getByRole('alert')).toContainText('no longer works');
  await expect(page.getByLabel('Administrator user ID')).toHaveCount(0);
  expect(() => passgrid(info, ['user', 'show', 'e2e-admin2'])).toThrow();
});
