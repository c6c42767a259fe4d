// SAML in real Chromium (issue #19): a page protected by Apache httpd with
// mod_auth_mellon (Debian) with passgrid as the SAML identity provider, and a second
// application protected by mod_auth_openidc with passgrid as OpenID provider. The user
// signs in to the SAML SP with the grid and the device certificate (Chromium's own
// TLS, the certificate in NSS); passgrid's auto-submitting form (its one script
// allowed by hash) carries the signed Response to mellon; then the OIDC application
// opens without a second grid, inside the same SSO session.
import { test, expect, chromium, Page } from '@playwright/test';
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
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

/** A CA of the SP's own and a TLS certificate for 127.0.0.1 from it (the SP serves
 *  HTTPS: a browser warns before posting a form from an HTTPS page to HTTP). */
function spTls(dir: string) {
  const ext = path.join(dir, 'tls.ext');
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=e2e SAML SP CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key',
    '-out', 'tls.csr', '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', ext, '-out', 'tls.pem']);
}

/** Apache: mellon (SAML SP, HTTPS) on one port, mod_auth_openidc on another. */
function startApache(dir: string, samlPort: number, oidc: { port: number; clientId: string; secret: string }): ChildProcess {
  fs.mkdirSync(path.join(dir, 'cgi'), { recursive: true });
  fs.copyFileSync(info.caPem, path.join(dir, 'passgrid-ca.pem'));
  fs.writeFileSync(path.join(dir, 'cgi', 'saml.cgi'),
    '#!/bin/sh\nprintf "Content-Type: text/html\\n\\n"\n' +
    'echo "<html><body><p id=\\"nameid\\">$MELLON_NAME_ID</p><p id=\\"mail\\">$MELLON_mail</p></body></html>"\n',
    { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'cgi', 'oidc.cgi'),
    '#!/bin/sh\nprintf "Content-Type: text/html\\n\\n"\n' +
    'echo "<html><body><p id=\\"user\\">$OIDC_CLAIM_preferred_username</p></body></html>"\n',
    { mode: 0o755 });
  const m = '/usr/lib/apache2/modules';
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
LoadModule ssl_module ${m}/mod_ssl.so
LoadModule auth_mellon_module ${m}/mod_auth_mellon.so
LoadModule auth_openidc_module ${m}/mod_auth_openidc.so
User www-data
Group www-data
Listen 127.0.0.1:${samlPort}
<VirtualHost 127.0.0.1:${samlPort}>
  ServerName 127.0.0.1
  SSLEngine on
  SSLCertificateFile ${dir}/tls.pem
  SSLCertificateKeyFile ${dir}/tls.key
  ScriptAlias /app/ ${dir}/cgi/
  <Location />
    MellonEndpointPath /mellon
    MellonSPPrivateKeyFile ${dir}/sp.key
    MellonSPCertFile ${dir}/sp.cert
    MellonSPMetadataFile ${dir}/sp-metadata.xml
    MellonIdPMetadataFile ${dir}/idp-metadata.xml
    MellonSecureCookie On
  </Location>
  <Location /app/>
    AuthType Mellon
    MellonEnable auth
    Require valid-user
  </Location>
</VirtualHost>
Listen 127.0.0.1:${oidc.port}
<VirtualHost 127.0.0.1:${oidc.port}>
  ServerName 127.0.0.1
  ScriptAlias /app/ ${dir}/cgi/
  OIDCProviderMetadataURL ${info.url}/.well-known/openid-configuration
  OIDCCABundlePath ${dir}/passgrid-ca.pem
  OIDCClientID ${oidc.clientId}
  OIDCClientSecret ${oidc.secret}
  OIDCRedirectURI http://127.0.0.1:${oidc.port}/app/redirect_uri
  OIDCCryptoPassphrase ${oidc.secret}
  OIDCPKCEMethod S256
  OIDCScope "openid profile"
  <Location /app/>
    AuthType openid-connect
    Require valid-user
  </Location>
</VirtualHost>
`;
  fs.writeFileSync(path.join(dir, 'httpd.conf'), conf);
  // Apache's worker user must reach these files (scratch folders are made 0700).
  if (process.env.E2E_SCRATCH_DIR) fs.chmodSync(process.env.E2E_SCRATCH_DIR, 0o711);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
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

test('sign in to a SAML SP with grid and certificate, then to an OIDC client without a grid', async ({}, testInfo) => {
  const user = 'e2e-saml';
  const cert = issueClientCert(info, user);
  passgrid(info, ['user', 'set-pattern', user, '--cells', CELLS.join(',')]);
  const [samlPort, oidcPort] = [await freePort(), await freePort()];
  const dir = scratchDir('saml-apache-');
  spTls(dir);
  // The SP's key, certificate and metadata, made by Debian's mellon tool; the NameID
  // format it asks for is its metadata's.
  const base = `https://127.0.0.1:${samlPort}/mellon`;
  execFileSync('/usr/sbin/mellon_create_metadata', [`${base}/metadata`, base], { cwd: dir, stdio: 'ignore' });
  const stem = path.join(dir, `https_127.0.0.1_${samlPort}_mellon_metadata`);
  fs.renameSync(`${stem}.key`, path.join(dir, 'sp.key'));
  fs.renameSync(`${stem}.cert`, path.join(dir, 'sp.cert'));
  const md = fs.readFileSync(`${stem}.xml`, 'utf8').replace('<AssertionConsumerService',
    '<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>\n    <AssertionConsumerService');
  fs.writeFileSync(path.join(dir, 'sp-metadata.xml'), md);
  const idpMd = await (await fetch(`${info.url}/saml/metadata`)).text();
  fs.writeFileSync(path.join(dir, 'idp-metadata.xml'), idpMd);
  // The SAML SP admits only devices holding the user's certificate.
  passgrid(info, ['saml', 'sp', 'add', 'mellon-e2e', '--metadata', path.join(dir, 'sp-metadata.xml'),
    '--attribute', 'mail=email', '--require-certificate', 'true']);
  const redirect = `http://127.0.0.1:${oidcPort}/app/redirect_uri`;
  const made = JSON.parse(passgrid(info, ['--json', 'oidc', 'client', 'add', 'oidc-after-saml', '--redirect-uri', redirect]));
  const apache = startApache(dir, samlPort, { port: oidcPort, clientId: made.client_id, secret: made.client_secret });
  const profile = makeProfile(info, cert);
  // The SP's TLS CA, trusted like passgrid's (a user's browser trusts both).
  execFileSync('certutil', ['-A', '-d', `sql:${path.join(profile.home, '.pki', 'nssdb')}`, '-n', 'e2e-sp-ca',
    '-t', 'C,,', '-i', path.join(dir, 'ca.pem')]);
  const context = await chromium.launchPersistentContext(profile.userDataDir, {
    ...chromiumLaunchOptions(),
    env: { ...process.env, HOME: profile.home },
  });
  const visited: string[] = [];
  try {
    await waitPort(samlPort, path.join(dir, 'stderr.log'));
    const page = await context.newPage();
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    // The SAML SP: through mellon to passgrid's sign-in (grid + the certificate
    // Chromium presents), then the Response posted back by passgrid's form.
    await page.goto(`https://127.0.0.1:${samlPort}/app/saml.cgi`);
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel('User ID').fill(user);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
    await page.getByLabel('One-time password').fill(await readOtp(page, CELLS));
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(new RegExp(`^https://127\\.0\\.0\\.1:${samlPort}/app/saml\\.cgi`));
    await expect(page.locator('#mail')).toHaveText(`${user}@example.com`);
    expect((await page.locator('#nameid').innerText()).length).toBeGreaterThan(20);
    const grids = visited.filter((u) => u.includes('/login/grid')).length;
    expect(grids).toBe(1);
    // The OIDC client: single sign-on, no second grid.
    await page.goto(`http://127.0.0.1:${oidcPort}/app/oidc.cgi`);
    await expect(page).toHaveURL(new RegExp(`^http://127\\.0\\.0\\.1:${oidcPort}/app/oidc\\.cgi`));
    await expect(page.locator('#user')).toHaveText(user);
    expect(visited.filter((u) => u.includes('/login/grid')).length).toBe(grids);
    // The assertion said how the user signed in: grid and device certificate.
    const issued = JSON.parse(passgrid(info, ['--json', 'saml', 'sp', 'show', 'mellon-e2e']));
    expect(issued.recent_sign_ins[0].actor).toBe(user);
    expect(issued.recent_sign_ins[0].reason).toContain('TLSClient');
  } finally {
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [i, p] of context.pages().entries()) {
        await p.screenshot({ path: testInfo.outputPath(`saml-${i}.png`), fullPage: true }).catch(() => {});
      }
    }
    await context.close();
    apache.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
  }
});
