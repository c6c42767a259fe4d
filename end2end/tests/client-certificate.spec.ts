// Client certificates, both ways a browser can present one:
//  1. Playwright's clientCertificates (a TLS proxy inside Playwright; Node checks the
//     server against NODE_EXTRA_CA_CERTS, set by the global set-up);
//  2. Chromium's own TLS with an NSS database, as a real user's browser does: the CA
//     is trusted there (no ignoreHTTPSErrors) and the device's PKCS#12 is installed.
import { test, expect, chromium, BrowserContext, TestInfo } from '@playwright/test';
import { chromiumLaunchOptions } from '../helpers/browser';
import { makeProfile } from '../helpers/nss';
import { issueClientCert, readServerInfo } from '../helpers/server';

const info = readServerInfo();

async function whoami(context: BrowserContext) {
  const page = await context.newPage();
  const response = await page.goto(info.url + '/api/v1/whoami');
  expect(response?.status()).toBe(200);
  return { page, body: JSON.parse(await page.locator('body').innerText()), response: response! };
}

async function screenshotOnFailure(context: BrowserContext, testInfo: TestInfo) {
  if (testInfo.status !== testInfo.expectedStatus) {
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: testInfo.outputPath(`failure-${i}.png`), fullPage: true }).catch(() => {});
    }
  }
}

test('Playwright clientCertificates: passgrid sees the certificate it issued', async ({ browser }) => {
  const cert = issueClientCert(info, 'e2e-alice');
  const context = await browser.newContext({
    clientCertificates: [{ origin: info.origin, certPath: cert.certPath, keyPath: cert.keyPath }],
  });
  const { page, body } = await whoami(context);
  expect(body.certificate_status).toBe('verified');
  expect(body.certificate.common_name).toBe('e2e-alice');
  expect(body.certificate.subject_alt_names).toContain('email:e2e-alice@example.com');
  expect(body.user).toBe('e2e-alice');
  await page.goto(info.url + '/');
  await expect(page.locator('section.grid-preview')).toHaveAttribute('data-hydrated', 'true');
  await context.close();
});

test('real Chromium TLS with the device certificate installed in NSS', async ({}, testInfo) => {
  const cert = issueClientCert(info, 'e2e-bob');
  const profile = makeProfile(info, cert);
  const context = await chromium.launchPersistentContext(profile.userDataDir, {
    ...chromiumLaunchOptions(),
    env: { ...process.env, HOME: profile.home },
  });
  try {
    const { page, body, response } = await whoami(context);
    // Chromium itself verified the server certificate against the CA in NSS.
    const security = await response.securityDetails();
    expect(security?.issuer).toContain('passgrid CA');
    expect(body.certificate_status).toBe('verified');
    expect(body.certificate.common_name).toBe('e2e-bob');
    expect(body.user).toBe('e2e-bob');
    await page.goto(info.url + '/');
    await expect(page.locator('section.grid-preview')).toHaveAttribute('data-hydrated', 'true');
  } finally {
    await screenshotOnFailure(context, testInfo);
    await context.close();
  }
});

test('real Chromium TLS without a certificate: trusted server, no client certificate', async ({}, testInfo) => {
  const profile = makeProfile(info, null);
  const context = await chromium.launchPersistentContext(profile.userDataDir, {
    ...chromiumLaunchOptions(),
    env: { ...process.env, HOME: profile.home },
  });
  try {
    const { body, response } = await whoami(context);
    expect((await response.securityDetails())?.issuer).toContain('passgrid CA');
    expect(body.certificate).toBeNull();
    expect(body.certificate_status).toBe('none');
  } finally {
    await screenshotOnFailure(context, testInfo);
    await context.close();
  }
});
