// First login with certificate auto-issue (SPEC §5.2, the source document's flow):
// ID → grid → OTP → auto-issue screen (Next) → Download, password shown once →
// install guide → pattern registration. Then the device without the certificate is
// refused, and the device with it signs in.
import { execFileSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, chromium, Page, TestInfo } from '@playwright/test';
import { chromiumLaunchOptions } from '../helpers/browser';
import { makeProfile } from '../helpers/nss';
import { passgrid, scratchDir, startServer, ServerInfo } from '../helpers/server';

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

let info: ServerInfo;
let child: ChildProcess;
let config: string;

test.beforeAll(async () => {
  config = path.join(scratchDir('auto-issue-'), 'passgrid.toml');
  fs.writeFileSync(
    config,
    '[auth]\nrequire_certificate = true\nauto_issue_certificate = true\n\n' +
      '[auth.shared_profiles]\nfrontdesk = ["e2e-desk-a", "e2e-desk-b"]\n',
  );
  const logFile = path.join(__dirname, '..', 'test-results', 'server-auto-issue.log');
  ({ info, child } = await startServer(logFile, ['--config', config]));
});

test.afterAll(() => {
  child?.kill('SIGTERM');
});

async function signIn(page: Page, user: string, cells: number[]) {
  await page.goto(info.url + '/login');
  await page.getByLabel('User ID').fill(user);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
  let otp = '';
  for (const c of cells) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
  await page.getByLabel('One-time password').fill(otp);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function screenshotOnFailure(page: Page, testInfo: TestInfo) {
  if (testInfo.status !== testInfo.expectedStatus) {
    await page.screenshot({ path: testInfo.outputPath('failure.png'), fullPage: true }).catch(() => {});
  }
}

test('first login issues the certificate; afterwards only the device holding it signs in', async ({ browser }, testInfo) => {
  const added = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-auto']));
  const cells: number[] = added.initial_pattern.cells;
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    // A new user's first login from a device with no certificate yet.
    await signIn(page, 'e2e-auto', cells);
    await expect(page).toHaveURL(/\/me\/certificate$/);
    await expect(page.getByRole('heading', { name: 'A certificate for this device' })).toBeVisible();
    await page.getByRole('button', { name: 'Next' }).click();

    await expect(page).toHaveURL(/\/me\/certificate\/download\?t=/);
    const token = new URL(page.url()).searchParams.get('t')!;
    const password = (await page.locator('output.cert-password').innerText()).trim();
    expect(password).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    await expect(page.getByText('It will not be shown again')).toBeVisible();
    const gate = page.locator('.download-gate');
    await expect(gate).toHaveAttribute('data-hydrated', 'true');
    const next = page.getByRole('button', { name: 'Next: install it' });
    // The page cannot be left forward before the file is saved and the password noted.
    await expect(next).toBeDisabled();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download', exact: true }).click(),
    ]);
    const p12 = path.join(scratchDir('download-'), download.suggestedFilename());
    await download.saveAs(p12);
    expect(download.suggestedFilename()).toBe('passgrid-e2e-auto.p12');
    await expect(next).toBeDisabled();
    await page.getByLabel('I have saved the file and written down the certificate password.').check();
    await expect(next).toBeEnabled();
    // The file opens with the password the page showed, and holds the user's certificate.
    const subject = execFileSync('openssl', ['pkcs12', '-in', p12, '-passin', `pass:${password}`, '-nokeys', '-clcerts'], {
      encoding: 'utf8',
    });
    expect(subject).toContain('CN = e2e-auto');
    await next.click();

    await expect(page).toHaveURL(/\/me\/certificate\/install/);
    await expect(page.getByRole('heading', { name: 'Install the certificate' })).toBeVisible();
    await expect(page.locator('.guide.detected')).toContainText('Linux and others');
    await page.getByRole('link', { name: 'Continue' }).click();
    // Then the user's own pattern, as every first login.
    await expect(page).toHaveURL(/\/me\/pattern$/);

    // The download was the only one: the link and the page are gone, password included.
    await page.goto(`${info.url}/me/certificate/file?t=${token}`);
    await expect(page).toHaveURL(/\/me\/certificate\?error=gone$/);
    await expect(page.getByRole('alert')).toContainText('expired or was already used');
    await page.goto(`${info.url}/me/certificate/download?t=${token}`);
    await expect(page.getByRole('alert')).toContainText('expired or was already used');
    expect(await page.content()).not.toContain(password);

    // Now that a certificate exists, this device (which never installed it) gets no grid.
    await page.goto(info.url + '/login');
    await page.getByLabel('User ID').fill('e2e-auto');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page).toHaveURL(/\/login\?error=device$/);
    await expect(page.getByRole('alert')).toContainText('This device is not registered');
    await expect(page.locator('.grid-box')).toHaveCount(0);

    // The device that installed it — a browser profile with the downloaded file
    // imported, as the install guide says — signs in.
    const profile = makeProfile(info, { dir: path.dirname(p12), certPath: '', keyPath: '', p12Path: p12, p12Password: password });
    const device = await chromium.launchPersistentContext(profile.userDataDir, {
      ...chromiumLaunchOptions(),
      env: { ...process.env, HOME: profile.home },
      locale: 'en-US',
    });
    try {
      const devicePage = await device.newPage();
      await signIn(devicePage, 'e2e-auto', cells);
      await expect(devicePage).toHaveURL(/\/me\/pattern$/);

      // Revoked by an administrator: the same device is "not registered" at its next
      // attempt, and gets no grid.
      const listed = JSON.parse(passgrid(info, ['--json', 'cert', 'list', '--user', 'e2e-auto']));
      passgrid(info, ['cert', 'revoke', listed[0].serial, '--reason', 'key-compromise']);
      await devicePage.goto(info.url + '/login');
      await devicePage.getByLabel('User ID').fill('e2e-auto');
      await devicePage.getByRole('button', { name: 'Next' }).click();
      await expect(devicePage).toHaveURL(/\/login\?error=device$/);
      await expect(devicePage.getByRole('alert')).toContainText('This device is not registered');
      await expect(devicePage.locator('.grid-box')).toHaveCount(0);
    } finally {
      await device.close();
    }
    // Neither the certificate password nor the download token reached the log.
    const log = fs.readFileSync(info.logFile, 'utf8');
    expect(log).not.toContain(password);
    expect(log).not.toContain(token);
  } finally {
    await screenshotOnFailure(page, testInfo);
    await context.close();
  }
});

test('a shared-terminal certificate signs in the two users of its profile, and not a third', async ({}, testInfo) => {
  const own = [3, 17, 17, 40, 9, 26, 44];
  for (const user of ['e2e-desk-a', 'e2e-desk-b', 'e2e-desk-c']) {
    passgrid(info, ['user', 'add', user]);
    // Their own patterns: no first-login exemption, only the certificate counts.
    passgrid(info, ['user', 'set-pattern', user, '--cells', own.join(',')]);
  }
  const dir = scratchDir('desk-');
  const p12 = path.join(dir, 'frontdesk.p12');
  const issued = JSON.parse(
    passgrid(info, ['--config', config, '--json', 'cert', 'issue', 'desk-1', '--shared', 'frontdesk', '--out', p12]),
  );
  const profile = makeProfile(info, { dir, certPath: '', keyPath: '', p12Path: p12, p12Password: issued.password });
  const terminal = await chromium.launchPersistentContext(profile.userDataDir, {
    ...chromiumLaunchOptions(),
    env: { ...process.env, HOME: profile.home },
    locale: 'en-US',
  });
  const page = await terminal.newPage();
  try {
    for (const user of ['e2e-desk-a', 'e2e-desk-b']) {
      await signIn(page, user, own);
      await expect(page).toHaveURL(/\/me$/);
      await expect(page.locator('.user-id')).toHaveText(user);
      await page.getByRole('button', { name: 'Log out' }).click();
    }
    await page.goto(info.url + '/login');
    await page.getByLabel('User ID').fill('e2e-desk-c');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page).toHaveURL(/\/login\?error=device$/);
    await expect(page.locator('.grid-box')).toHaveCount(0);
  } finally {
    await screenshotOnFailure(page, testInfo);
    await terminal.close();
  }
});
