// Single sign-on in real Chromium (issue #17): two web applications, each protected by
// Apache httpd with mod_auth_openidc (Debian packages) and passgrid as provider. The
// user signs in to application A with the grid and the device certificate (Chromium's
// own TLS, the certificate in NSS), opens application B without a second grid, logs
// out at passgrid, and is signed out of both (back-channel logout).
import { test, expect, chromium, Page } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { chromiumLaunchOptions } from '../helpers/browser';
import { makeProfile } from '../helpers/nss';
import { issueClientCert, passgrid, readServerInfo, scratchDir } from '../helpers/server';

const info = readServerInfo();
const CELLS = [3, 17, 22, 40, 41, 9, 30];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, log: string) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('apache did not start: ' + (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''));
}

interface App { name: string; port: number; clientId: string; secret: string }

/** Apache with one virtual host (its own port and OIDC client) per application. */
function startApache(dir: string, apps: App[]): ChildProcess {
  fs.mkdirSync(path.join(dir, 'cgi'), { recursive: true });
  fs.copyFileSync(info.caPem, path.join(dir, 'ca.pem'));
  fs.writeFileSync(path.join(dir, 'cgi', 'whoami.cgi'),
    '#!/bin/sh\nprintf "Content-Type: text/html\\n\\n"\n' +
    'echo "<html><body><p id=\\"user\\">$OIDC_CLAIM_preferred_username</p><p id=\\"amr\\">$OIDC_CLAIM_amr</p></body></html>"\n',
    { mode: 0o755 });
  const m = '/usr/lib/apache2/modules';
  const hosts = apps.map((a) => `
Listen 127.0.0.1:${a.port}
<VirtualHost 127.0.0.1:${a.port}>
  ServerName 127.0.0.1
  ScriptAlias /app/ ${dir}/cgi/
  OIDCProviderMetadataURL ${info.url}/.well-known/openid-configuration
  OIDCCABundlePath ${dir}/ca.pem
  OIDCClientID ${a.clientId}
  OIDCClientSecret ${a.secret}
  OIDCRedirectURI http://127.0.0.1:${a.port}/app/redirect_uri
  OIDCCryptoPassphrase ${a.secret}
  OIDCPKCEMethod S256
  OIDCScope "openid profile"
  # Both applications live on 127.0.0.1: cookies do not tell ports apart.
  OIDCCookie ${a.name}_session
  <Location /app/>
    AuthType openid-connect
    Require valid-user
  </Location>
</VirtualHost>`).join('\n');
  const conf = `
ServerRoot "${dir}"
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
LoadModule mpm_prefork_module ${m}/mod_mpm_prefork.so
LoadModule authz_core_module ${m}/mod_authz_core.so
LoadModule authn_core_module ${m}/mod_authn_core.so
LoadModule authz_user_module ${m}/mod_authz_user.so
LoadModule alias_module ${m}/mod_alias.so
LoadModule cgi_module ${m}/mod_cgi.so
LoadModule auth_openidc_module ${m}/mod_auth_openidc.so
User www-data
Group www-data
${hosts}
`;
  fs.writeFileSync(path.join(dir, 'httpd.conf'), conf);
  // Apache's worker user must reach these files (scratch folders are made 0700).
  if (process.env.E2E_SCRATCH_DIR) fs.chmodSync(process.env.E2E_SCRATCH_DIR, 0o711);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'cgi'), 0o755);
  // detached: its own process group, which Apache signals as a whole when it stops.
  return spawn('/usr/sbin/apache2', ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    detached: true,
    stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'stderr.log'), 'w')],
    env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir },
  });
}

async function readOtp(page: Page, cells: number[]) {
  let otp = '';
  for (const c of cells) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
  return otp;
}

test('sign in to A with grid and certificate, B without a grid, log out of both', async ({}, testInfo) => {
  const user = 'e2e-sso';
  const cert = issueClientCert(info, user);
  passgrid(info, ['user', 'set-pattern', user, '--cells', CELLS.join(',')]);
  const [portA, portB] = [await freePort(), await freePort()];
  const apps: App[] = [];
  for (const [name, port] of [['appa', portA], ['appb', portB]] as [string, number][]) {
    const redirect = `http://127.0.0.1:${port}/app/redirect_uri`;
    const made = JSON.parse(passgrid(info, ['--json', 'oidc', 'client', 'add', name, '--redirect-uri', redirect,
      '--backchannel-logout-uri', `${redirect}?logout=backchannel`]));
    apps.push({ name, port, clientId: made.client_id, secret: made.client_secret });
  }
  // Application A admits only devices holding the user's certificate.
  passgrid(info, ['app', 'set', 'appa', '--require-certificate', 'true']);
  const dir = scratchDir('apache-');
  const apache = startApache(dir, apps);
  const profile = makeProfile(info, cert);
  const context = await chromium.launchPersistentContext(profile.userDataDir, {
    ...chromiumLaunchOptions(),
    env: { ...process.env, HOME: profile.home },
  });
  const visited: string[] = [];
  try {
    await waitPort(portA, path.join(dir, 'stderr.log'));
    const page = await context.newPage();
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    // A: passgrid's sign-in (grid + the certificate Chromium presents), then back.
    await page.goto(`http://127.0.0.1:${portA}/app/whoami.cgi`);
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel('User ID').fill(user);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
    await page.getByLabel('One-time password').fill(await readOtp(page, CELLS));
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(new RegExp(`^http://127\\.0\\.0\\.1:${portA}/app/whoami\\.cgi`));
    await expect(page.locator('#user')).toHaveText(user);
    await expect(page.locator('#amr')).toContainText('swk');
    const grids = visited.filter((u) => u.includes('/login/grid')).length;
    expect(grids).toBe(1);
    // B: single sign-on, no second grid.
    await page.goto(`http://127.0.0.1:${portB}/app/whoami.cgi`);
    await expect(page).toHaveURL(new RegExp(`^http://127\\.0\\.0\\.1:${portB}/app/whoami\\.cgi`));
    await expect(page.locator('#user')).toHaveText(user);
    expect(visited.filter((u) => u.includes('/login/grid')).length).toBe(grids);
    // Log out at passgrid: both applications hear it on their back channels.
    await page.goto(info.url + '/me');
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    for (const port of [portA, portB]) {
      await page.goto(`http://127.0.0.1:${port}/app/whoami.cgi`);
      await expect(page).toHaveURL(/\/login$/);
    }
  } finally {
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [i, p] of context.pages().entries()) {
        await p.screenshot({ path: testInfo.outputPath(`sso-${i}.png`), fullPage: true }).catch(() => {});
      }
    }
    await context.close();
    apache.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
  }
});
