// A user made by LDAP sync signs in for the first time (issue #7, SPEC §8.4): the
// directory (a real slapd) → `passgrid sync run` → the first-login notice by mail (a
// real SMTP sink) with the initial pattern → sign-in in Chromium → certificate
// auto-issued → own pattern registered.
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test, expect, Page, TestInfo } from '@playwright/test';
import { passgrid, REPO, scratchDir, startServer, ServerInfo } from '../helpers/server';

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

const FIXTURE = path.join(REPO, 'scripts', 'slapd-fixture.sh');
let info: ServerInfo;
let server: ChildProcess;
let sink: ChildProcess;
let work: string;
let config: string;
let slapdDir: string | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Starts the fixture on a port P with P+1 (its ldaps port) free too, retrying on a
 *  clash: another process may take a port between the probe and slapd's bind. */
async function startSlapd(dir: string): Promise<number> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    if (!(await portIsFree(port + 1))) continue;
    const at = path.join(dir, `slapd-${attempt}`);
    try {
      execFileSync('bash', [FIXTURE, 'start', at, String(port), '20'], { stdio: 'pipe' });
      slapdDir = at;
      return port;
    } catch (e) {
      last = e;
      try {
        execFileSync('bash', [FIXTURE, 'stop', at], { stdio: 'ignore' });
      } catch {
        // nothing to stop
      }
    }
  }
  throw new Error(`slapd did not start: ${last}`);
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

test.beforeAll(async () => {
  work = scratchDir('ldap-');
  const ldapPort = await startSlapd(work);
  const smtpPort = await freePort();
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  sink = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Mailbox', path.join(work, 'maildir')], {
    stdio: 'ignore',
  });
  await waitForPort(smtpPort);
  config = path.join(work, 'passgrid.toml');
  fs.writeFileSync(
    config,
    '[auth]\nrequire_certificate = true\nauto_issue_certificate = true\nfirst_login_mail = true\n\n' +
      `[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = ${smtpPort}\nsecurity = "none"\nfrom = "passgrid <passgrid@example.com>"\n`,
  );
  const logFile = path.join(__dirname, '..', 'test-results', 'server-ldap.log');
  ({ info, child: server } = await startServer(logFile, ['--config', config]));
  // The command line's notices link to where this server is (known once it runs).
  const syncConfig = path.join(work, 'sync.toml');
  fs.writeFileSync(syncConfig, fs.readFileSync(config, 'utf8') + `\n[serve]\npublic_url = "${info.url}"\n`);
  config = syncConfig;
  const password = path.join(work, 'bind.pw');
  fs.writeFileSync(password, 'readerpw\n');
  passgrid(info, [
    '--config', config, 'sync', 'add-ldap', 'corp', '--url', `ldap://127.0.0.1:${ldapPort}`,
    '--bind-dn', 'cn=reader,dc=example,dc=com', '--bind-password-file', password,
    '--base', 'ou=people,dc=example,dc=com', '--filter', '(objectClass=inetOrgPerson)',
    '--group-attr', 'passgridGroup',
  ]);
  passgrid(info, ['--config', config, 'sync', 'run', 'corp']);
});

test.afterAll(() => {
  server?.kill('SIGTERM');
  sink?.kill('SIGTERM');
  if (slapdDir) {
    try {
      execFileSync('bash', [FIXTURE, 'stop', slapdDir]);
    } catch {
      // already stopped
    }
  }
});

/** The decoded body of the mail sent to `to` (Python's email module decodes it as a mail client would). */
function mailTo(to: string): string {
  const dir = path.join(work, 'maildir', 'new');
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const raw = fs.readFileSync(path.join(dir, f), 'utf8');
    if (!raw.includes(to)) continue;
    return execFileSync('python3', ['-c',
      "import email, sys\nm = email.message_from_binary_file(open(sys.argv[1], 'rb'))\n" +
      "sys.stdout.write(m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8'))",
      path.join(dir, f)], { encoding: 'utf8' });
  }
  throw new Error(`no mail to ${to}`);
}

/** Cells in order from the text picture: 48 marks, row by row; 1-9 then a, b, … give the order. */
function cellsFromPicture(picture: string): number[] {
  const marks = picture.replace(/\s+/g, '');
  const byOrder: [number, number][] = [];
  [...marks].forEach((m, cell) => {
    if (m !== '*') byOrder.push([/[0-9]/.test(m) ? Number(m) : m.charCodeAt(0) - 'a'.charCodeAt(0) + 10, cell]);
  });
  return byOrder.sort((a, b) => a[0] - b[0]).map(([, cell]) => cell);
}

async function typeGrid(page: Page, cells: number[]) {
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
  let otp = '';
  for (const c of cells) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
  return otp;
}

async function screenshotOnFailure(page: Page, testInfo: TestInfo) {
  if (testInfo.status !== testInfo.expectedStatus) {
    await page.screenshot({ path: testInfo.outputPath('failure.png'), fullPage: true }).catch(() => {});
  }
}

test('a user from the directory signs in the first time: notice by mail, certificate, own pattern', async ({ browser }, testInfo) => {
  const user = JSON.parse(passgrid(info, ['--json', 'user', 'show', 'user00001']));
  expect(user.source).toBe('ldap:corp');
  expect(user.groups).toEqual(['dev']);

  const body = mailTo('user00001@example.com');
  expect(body).toContain('user00001');
  expect(body).toContain(info.url + '/login');
  const picture = body.split('\n').map((l) => l.trim()).find((l) => /^[*0-9a-z]{4}( [*0-9a-z]{4}){11}$/.test(l));
  expect(picture, body).toBeTruthy();
  const cells = cellsFromPicture(picture!);
  expect(cells.length).toBe(6);

  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(info.url + '/login');
    await page.getByLabel('User ID').fill('user00001');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('One-time password').fill(await typeGrid(page, cells));
    await page.getByRole('button', { name: 'Log in' }).click();

    // No certificate yet: it is issued at this first login.
    await expect(page).toHaveURL(/\/me\/certificate$/);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page).toHaveURL(/\/me\/certificate\/download\?t=/);
    const password = (await page.locator('output.cert-password').innerText()).trim();
    await expect(page.locator('.download-gate')).toHaveAttribute('data-hydrated', 'true');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download', exact: true }).click(),
    ]);
    const p12 = path.join(scratchDir('download-'), download.suggestedFilename());
    await download.saveAs(p12);
    const subject = execFileSync('openssl', ['pkcs12', '-in', p12, '-passin', `pass:${password}`, '-nokeys', '-clcerts'], { encoding: 'utf8' });
    expect(subject).toContain('CN = user00001');
    await page.getByLabel('I have saved the file and written down the certificate password.').check();
    await page.getByRole('button', { name: 'Next: install it' }).click();
    await expect(page).toHaveURL(/\/me\/certificate\/install/);
    await page.getByRole('link', { name: 'Continue' }).click();

    // Then the user's own pattern, drawn and confirmed on two fresh grids.
    await expect(page).toHaveURL(/\/me\/pattern$/);
    const own = [3, 17, 17, 40, 9, 26, 44];
    const editor = page.locator('form.pattern-editor');
    await expect(editor).toHaveAttribute('data-hydrated', 'true');
    for (const c of own) await editor.locator(`[data-cell="${c}"]`).click();
    await expect(editor.locator('.rule')).toHaveCount(0);
    await editor.getByRole('button', { name: /confirm on two grids/ }).click();
    for (const step of [1, 2]) {
      await expect(page).toHaveURL(new RegExp(`/me/pattern/confirm\\?c=[0-9a-f]{32}&step=${step}$`));
      await page.getByLabel('One-time password').fill(await typeGrid(page, own));
      await page.getByRole('button', { name: 'Confirm' }).click();
    }
    await expect(page).toHaveURL(/\/me\?changed=1$/);
    await expect(page.locator('.pattern-changed')).toBeVisible();
  } finally {
    await screenshotOnFailure(page, testInfo);
    await context.close();
  }
});
