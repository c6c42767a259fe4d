// The administrators' console (issue #5 acceptance), in a real browser at tablet
// width: an administrator signs in with the grid, adds a user, imports a CSV of 500
// users (a file with one bad row imports nothing and names the row; then the clean
// file), filters, selects 100 users, issues their certificates in bulk with a
// visible progress bar, downloads the ZIP (each PKCS#12 opens with openssl and the
// password on the sheet), revokes 10, and finds all of it in the audit log.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, Page, TestInfo } from '@playwright/test';
import { passgrid, readServerInfo, scratchDir } from '../helpers/server';

const info = readServerInfo();
const ADMIN = 'e2e-console';
const PATTERN = [3, 17, 17, 40, 9, 26, 44];

// Tablet width (SPEC: usable at tablet width).
test.use({ ignoreHTTPSErrors: true, locale: 'en-US', viewport: { width: 768, height: 1024 } });

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

function csv(rows: number, badRow?: number): string {
  const lines = ['id,name,email,groups'];
  for (let i = 1; i <= rows; i++) {
    const n = String(i).padStart(4, '0');
    const email = i === badRow ? 'not-a-mail-address' : `bulk-${n}@example.com`;
    lines.push(`bulk-${n},Bulk User ${n},${email},${i % 2 ? 'sales' : 'support'}`);
  }
  return lines.join('\r\n') + '\r\n';
}

test.afterEach(async ({ page }, testInfo) => screenshotOnFailure(page, testInfo));

test('console: add, import 500, filter, bulk-issue 100 with progress, ZIP, revoke 10, audit', async ({ page }) => {
  test.setTimeout(240_000);
  // A panic in an island (or an island the WASM lacks) shows as a page error.
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.text().includes('Could not find WASM function')) pageErrors.push(m.text()); });
  const dir = scratchDir('console-');
  passgrid(info, ['admin', 'create', ADMIN, '--role', 'admin', '--name', 'Console Admin']);
  passgrid(info, ['user', 'set-pattern', ADMIN, '--cells', PATTERN.join(',')]);

  // A plain user is refused by the console and by its API.
  const plain = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-console-plain']));
  await signIn(page, 'e2e-console-plain', plain.initial_pattern.cells);
  passgrid(info, ['user', 'set-pattern', 'e2e-console-plain', '--cells', PATTERN.join(',')]);
  const refused = await page.goto(info.url + '/admin/users');
  expect(refused!.status()).toBe(403);
  await expect(page.getByText('This page is for administrators.')).toBeVisible();
  expect((await page.request.get(info.url + '/api/v1/admin/users')).status()).toBe(403);
  await page.context().clearCookies();

  await signIn(page, ADMIN, PATTERN);
  await expect(page).toHaveURL(/\/me$/);
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator('.dashboard')).toHaveAttribute('data-loaded', 'true');

  // 1. Add one user.
  await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
  const console_ = page.locator('.user-console');
  await expect(console_).toHaveAttribute('data-loaded', 'true');
  const form = page.locator('.new-user');
  await expect(form).toHaveAttribute('data-hydrated', 'true');
  await form.getByLabel('User ID').fill('console-new');
  await form.getByLabel('Name').fill('Console New');
  await form.getByLabel('Mail').fill('console-new@example.com');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(form.locator('.created')).toContainText('console-new');
  await expect(form.locator('.initial-pattern')).not.toBeEmpty();
  expect(JSON.parse(passgrid(info, ['--json', 'user', 'show', 'console-new'])).email).toBe('console-new@example.com');

  // 2. A CSV of 500 with one bad row: nothing is imported and the row is named.
  const importer = page.locator('.user-import');
  const bad = path.join(dir, 'users-bad.csv');
  fs.writeFileSync(bad, csv(500, 251));
  await importer.getByLabel('CSV file').setInputFiles(bad);
  await importer.getByRole('button', { name: 'Import' }).click();
  await expect(importer.locator('.import-error')).toContainText('line 252');
  expect(() => passgrid(info, ['user', 'show', 'bulk-0001'])).toThrow();

  // The clean file: a dry run first (nothing changes), then the import.
  const good = path.join(dir, 'users.csv');
  fs.writeFileSync(good, csv(500));
  await importer.getByLabel('CSV file').setInputFiles(good);
  await importer.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(importer.locator('.import-report')).toHaveAttribute('data-dry-run', 'true');
  await expect(importer.locator('.import-report .adds')).toHaveText('500');
  await expect(importer.locator('.adds-ids')).toContainText('bulk-0001, bulk-0002');
  await expect(importer.locator('.adds-ids')).toContainText('(+480)');
  expect(() => passgrid(info, ['user', 'show', 'bulk-0001'])).toThrow();
  await importer.getByRole('button', { name: 'Import' }).click();
  await expect(importer.locator('.import-report')).toHaveAttribute('data-dry-run', 'false');
  await expect(importer.locator('.import-report .adds')).toHaveText('500');
  expect(JSON.parse(passgrid(info, ['--json', 'user', 'show', 'bulk-0500'])).display_name).toBe('Bulk User 0500');

  // 3. Filter, then select 100 users: two pages of 50.
  await console_.getByLabel('Search (ID, name, mail)').fill('bulk-');
  await console_.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(console_.locator('tr[data-user]')).toHaveCount(50);
  await expect(console_.locator('tr[data-user]').first()).toHaveAttribute('data-user', 'bulk-0001');
  await console_.getByRole('button', { name: 'Select this page' }).click();
  await console_.getByRole('button', { name: 'Next page' }).click();
  await expect(console_.locator('tr[data-user]').first()).toHaveAttribute('data-user', 'bulk-0051');
  await console_.getByRole('button', { name: 'Select this page' }).click();
  await expect(console_.locator('.selected-count')).toHaveText('100 selected');
  // Unselect one and select it again by its own box.
  const box = console_.getByRole('checkbox', { name: 'bulk-0060' });
  await box.uncheck();
  await expect(console_.locator('.selected-count')).toHaveText('99 selected');
  await box.check();
  await expect(console_.locator('.selected-count')).toHaveText('100 selected');

  // 4. Bulk issue with a progress bar.
  page.once('dialog', (d) => d.accept());
  await console_.getByRole('button', { name: 'Issue (download ZIP)' }).click();
  const job = console_.locator('.job');
  await expect(job.locator('progress.job-progress')).toBeVisible();
  await expect(job).toHaveAttribute('data-state', 'finished', { timeout: 120_000 });
  await expect(job.locator('.job-count')).toHaveText('100 / 100');
  await expect(job.locator('.job-succeeded')).toHaveText('100');
  await expect(job.locator('.job-failed')).toHaveText('0');

  // 5. The ZIP: 100 PKCS#12 files, each opened with openssl and its sheet password.
  const downloading = page.waitForEvent('download');
  await job.locator('a.job-download').click();
  const zipPath = path.join(dir, 'certificates.zip');
  await (await downloading).saveAs(zipPath);
  const unpacked = path.join(dir, 'unzipped');
  execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zipPath, unpacked]);
  const p12s = fs.readdirSync(unpacked).filter((f) => f.endsWith('.p12'));
  expect(p12s.length).toBe(100);
  const sheet = fs.readFileSync(path.join(unpacked, 'passwords.html'), 'utf8');
  const passwords = new Map<string, string>();
  for (const m of sheet.matchAll(/<td class="user">([^<]+)<\/td>(?:<td>[^<]*<\/td>){2}<td class="password">([^<]+)<\/td>/g)) {
    passwords.set(m[1], m[2]);
  }
  expect(passwords.size).toBe(100);
  for (const user of ['bulk-0001', 'bulk-0060', 'bulk-0100']) {
    const pem = execFileSync('openssl', [
      'pkcs12', '-in', path.join(unpacked, `${user}.p12`), '-passin', `pass:${passwords.get(user)}`, '-nokeys', '-clcerts',
    ], { encoding: 'utf8' });
    expect(pem).toMatch(new RegExp(`CN ?= ?${user}`));
  }
  expect(p12s).not.toContain('bulk-0101.p12');

  // 6. Revoke 10: everyone matching "bulk-001" (bulk-0010 … bulk-0019).
  await console_.getByRole('button', { name: 'Clear selection' }).click();
  await console_.getByLabel('Search (ID, name, mail)').fill('bulk-001');
  await console_.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(console_.locator('tr[data-user]')).toHaveCount(10);
  await console_.getByRole('button', { name: 'Select all users matching the filter' }).click();
  page.once('dialog', (d) => d.accept());
  await console_.getByRole('button', { name: 'Revoke' }).click();
  await expect(job).toHaveAttribute('data-state', 'finished', { timeout: 60_000 });
  await expect(job.locator('.job-succeeded')).toHaveText('10');
  const states = (u: string) => JSON.parse(passgrid(info, ['--json', 'cert', 'list', '--user', u])).map((c: any) => c.state);
  expect(states('bulk-0015')).toEqual(['revoked']);
  expect(states('bulk-0020')).toEqual(['valid']);

  // 7. The audit log shows it all, filtered by action.
  await page.getByRole('navigation').getByRole('link', { name: 'Audit log' }).click();
  const audit = page.locator('.audit');
  await expect(audit).toHaveAttribute('data-loaded', 'true');
  await audit.getByLabel('Action').fill('cert.revoke');
  await audit.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(audit.locator('tbody tr')).toHaveCount(10);
  await expect(audit.locator('tbody tr').first().locator('td').nth(1)).toHaveText(ADMIN);
  await audit.getByLabel('Actor').fill(ADMIN);
  for (const [action, count] of [['user.import', 2], ['user.create', 1], ['cert.bulk_download', 1]] as const) {
    await audit.getByLabel('Action').fill(action);
    await audit.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect(audit.locator('tbody tr')).toHaveCount(count);
  }
  // The refused import is there too, with the line it named.
  await audit.getByLabel('Action').fill('user.import');
  await audit.getByLabel('Outcome').selectOption('failure');
  await audit.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(audit.locator('tbody tr')).toHaveCount(1);
  await expect(audit.locator('tbody tr .reason')).toContainText('line 252');
  await audit.getByLabel('Outcome').selectOption('');
  await audit.getByLabel('Action').fill('cert.issue_p12');
  await audit.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(audit.locator('tbody tr')).toHaveCount(100);
  // Days: nothing before 2000; today's entries from today on.
  await audit.getByLabel('To (UTC day)').fill('2000-01-01');
  await audit.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(audit.locator('tbody tr')).toHaveCount(0);
  await audit.getByLabel('To (UTC day)').fill('');
  await audit.getByLabel('From (UTC day)').fill(new Date().toISOString().slice(0, 10));
  await audit.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(audit.locator('tbody tr')).toHaveCount(100);

  // The console speaks Japanese too.
  await page.goto(info.url + '/lang/ja');
  await page.goto(info.url + '/admin/users');
  await expect(page.getByRole('navigation').getByRole('link', { name: 'ユーザー' })).toBeVisible();
  await expect(page.locator('.user-console h1')).toHaveText('ユーザー');
  await page.screenshot({ path: path.join(dir, 'console-ja.png'), fullPage: true });
  expect(pageErrors).toEqual([]);
});

test('console: a policy with validation, attached to a group; one user edited, reset, revoked, deleted; sync run', async ({ page }) => {
  test.setTimeout(120_000);
  const admin = 'e2e-console2';
  passgrid(info, ['admin', 'create', admin, '--role', 'admin']);
  passgrid(info, ['user', 'set-pattern', admin, '--cells', PATTERN.join(',')]);
  passgrid(info, ['group', 'add', 'e2e-pol']);
  passgrid(info, ['user', 'add', 'e2e-pol-1', '--group', 'e2e-pol', '--name', 'Pol One']);
  const dir = scratchDir('console2-');
  passgrid(info, ['cert', 'issue', 'e2e-pol-1', '--out', path.join(dir, 'pol1.p12')]);
  // The sign-in pages load the small WASM (the plain sign-in form none at all); the
  // console its own, with its islands. Names carry a hash of the content.
  const scripts = async () => page.locator('link[rel="modulepreload"]').evaluateAll((ls) => ls.map((l) => l.getAttribute('href')));
  await page.goto(info.url + '/login');
  expect(await scripts()).toEqual([]);
  await page.goto(info.url + '/');
  expect(await scripts()).toEqual([expect.stringMatching(/^\/pkg\/passgrid\.[0-9a-f]{16}\.js$/)]);
  await signIn(page, admin, PATTERN);
  await expect(page).toHaveURL(/\/me$/);
  await page.goto(info.url + '/admin');
  expect(await scripts()).toEqual([expect.stringMatching(/^\/pkg\/passgrid-admin\.[0-9a-f]{16}\.js$/)]);

  // Policies: create one; a bad value is refused with the key named and nothing stored.
  await page.goto(info.url + '/admin/policies');
  const policies = page.locator('.policies');
  await expect(policies).toHaveAttribute('data-loaded', 'true');
  await expect(policies.locator('.policy-editor')).toHaveAttribute('data-policy', 'default');
  await policies.getByLabel('New policy name').fill('e2e-strict');
  await policies.getByRole('button', { name: 'Create', exact: true }).click();
  const editor = policies.locator('.policy-editor[data-policy="e2e-strict"]');
  await expect(editor).toBeVisible();
  await editor.getByLabel('lockout_threshold', { exact: true }).fill('abc');
  await editor.getByRole('button', { name: 'Save policy' }).click();
  await expect(policies.getByRole('alert')).toContainText('lockout_threshold');
  const stored = () => JSON.parse(passgrid(info, ['--json', 'policy', 'show', 'e2e-strict']));
  const origin = (view: any, key: string) => view.keys.find((k: any) => k.key === key);
  expect(origin(stored(), 'lockout_threshold').origin).not.toBe('here');
  await editor.getByLabel('lockout_threshold', { exact: true }).fill('2');
  await editor.getByLabel('require_certificate', { exact: true }).fill('true');
  await editor.getByRole('button', { name: 'Save policy' }).click();
  await expect(editor.locator('.saved')).toBeVisible();
  await expect(editor.locator('tr[data-key="lockout_threshold"] .origin')).toHaveAttribute('data-origin', 'here');
  await expect(editor.locator('tr[data-key="lockout_threshold"] .origin')).toHaveText('set in this policy');
  expect(origin(stored(), 'lockout_threshold').value).toBe('2');
  await editor.getByLabel('Group').fill('e2e-pol');
  await editor.getByLabel('priority').fill('10');
  await editor.getByRole('button', { name: 'Attach to group' }).click();
  await expect(editor.locator('.attachments')).toContainText('e2e-pol');

  // One user: the effective policy and why; edit; a new initial pattern; revoke one
  // certificate; delete.
  await page.goto(info.url + '/admin/users');
  await expect(page.locator('.user-console')).toHaveAttribute('data-loaded', 'true');
  await page.locator('.user-console').getByLabel('Search (ID, name, mail)').fill('e2e-pol-1');
  await page.locator('.user-console').getByRole('button', { name: 'Filter', exact: true }).click();
  await page.getByRole('link', { name: 'e2e-pol-1' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/e2e-pol-1$/);
  const detail = page.locator('.user-detail');
  await expect(detail).toHaveAttribute('data-loaded', 'true');
  await expect(detail.locator('.policy-name')).toHaveText('e2e-strict');
  await expect(detail.locator('.policy-reason')).toContainText('"e2e-pol", priority 10');
  await detail.getByLabel('Name').fill('Pol One Renamed');
  await detail.getByRole('button', { name: 'Save' }).click();
  await expect(detail.getByRole('status').first()).toContainText('Saved');
  expect(JSON.parse(passgrid(info, ['--json', 'user', 'show', 'e2e-pol-1'])).display_name).toBe('Pol One Renamed');
  page.once('dialog', (d) => d.accept());
  await detail.getByRole('button', { name: 'New initial pattern' }).click();
  await expect(detail.locator('.new-pattern .initial-pattern')).not.toBeEmpty();
  await expect(detail.locator('.cert-state')).toHaveAttribute('data-state', 'valid');
  page.once('dialog', (d) => d.accept());
  await detail.getByRole('button', { name: 'Revoke' }).click();
  await expect(detail.locator('.cert-state')).toHaveAttribute('data-state', 'revoked');
  await expect(detail.locator('.cert-state')).toHaveText('revoked');
  expect(JSON.parse(passgrid(info, ['--json', 'cert', 'list', '--user', 'e2e-pol-1']))[0].state).toBe('revoked');
  // A hardware token: imported and given to the user on the tokens page, then taken
  // away on the user's page.
  const seeds = path.join(dir, 'tokens.csv');
  fs.writeFileSync(seeds, 'serial,seed\r\nE2E-HW-1,3132333435363738393031323334353637383930\r\n');
  await page.goto(info.url + '/admin/tokens');
  const tokens = page.locator('.tokens');
  await expect(tokens).toHaveAttribute('data-loaded', 'true');
  await tokens.getByLabel('Seed file (CSV or PSKC)').setInputFiles(seeds);
  await tokens.getByRole('button', { name: 'Import tokens' }).click();
  await expect(tokens.getByRole('status')).toContainText('1 tokens imported');
  await expect(tokens.locator('tr[data-token="E2E-HW-1"]')).toBeVisible();
  await tokens.locator('.assign-token').getByLabel('Serial').fill('E2E-HW-1');
  await tokens.locator('.assign-token').getByLabel('User ID').fill('e2e-pol-1');
  await tokens.getByRole('button', { name: 'Give a hardware token to a user' }).click();
  await expect(tokens.locator('tr[data-token="E2E-HW-1"] .token-user')).toHaveText('e2e-pol-1');
  await page.goto(info.url + '/admin/users/e2e-pol-1');
  await expect(detail).toHaveAttribute('data-loaded', 'true');
  await expect(detail.locator('.user-token')).toContainText('E2E-HW-1 (hardware token)');
  page.once('dialog', (d) => d.accept());
  await detail.getByRole('button', { name: 'Reset token' }).click();
  await expect(detail.locator('.user-token')).toContainText('No token.');

  page.once('dialog', (d) => d.dismiss());
  await detail.getByRole('button', { name: 'Delete user' }).click();
  expect(JSON.parse(passgrid(info, ['--json', 'user', 'show', 'e2e-pol-1'])).id).toBe('e2e-pol-1');
  page.once('dialog', (d) => d.accept());
  await detail.getByRole('button', { name: 'Delete user' }).click();
  await expect(detail.getByRole('status').first()).toContainText('deleted');
  expect(() => passgrid(info, ['user', 'show', 'e2e-pol-1'])).toThrow();

  // Groups: a description changed in place, then the group deleted.
  await page.goto(info.url + '/admin/groups');
  const groupList = page.locator('.groups');
  await expect(groupList).toHaveAttribute('data-loaded', 'true');
  await groupList.getByLabel('Description e2e-pol').fill('Policy test group');
  await groupList.getByLabel('Description e2e-pol').press('Enter');
  await expect(groupList.getByRole('status')).toContainText('e2e-pol');
  expect(passgrid(info, ['--json', 'group', 'list'])).toContain('Policy test group');
  page.once('dialog', (d) => d.accept());
  await groupList.locator('tr[data-group="e2e-pol"]').getByRole('button', { name: 'Delete' }).click();
  await expect(groupList.locator('tr[data-group="e2e-pol"]')).toHaveCount(0);

  // An API token for this administrator: shown once, works, revoked.
  await page.goto(info.url + '/admin/api-tokens');
  const apiTokens = page.locator('.api-tokens');
  await expect(apiTokens).toHaveAttribute('data-loaded', 'true');
  await apiTokens.getByLabel('Name', { exact: true }).fill('e2e script');
  await apiTokens.getByRole('button', { name: 'Make a token' }).click();
  const minted = (await apiTokens.locator('.api-token').innerText()).trim();
  expect(minted).toMatch(/^pgt_[0-9a-f]{8}_/);
  const asScript = await page.request.get(info.url + '/api/v1/admin/users?limit=1', { headers: { Authorization: `Bearer ${minted}` } });
  expect(asScript.status()).toBe(200);
  const prefix = minted.split('_')[1];
  page.once('dialog', (d) => d.accept());
  await apiTokens.locator(`tr[data-prefix="${prefix}"]`).getByRole('button', { name: 'Revoke' }).click();
  await expect(apiTokens.locator(`tr[data-prefix="${prefix}"]`)).toHaveCount(0);
  const revokedCall = await page.request.get(info.url + '/api/v1/admin/users?limit=1', { headers: { Authorization: `Bearer ${minted}` } });
  expect(revokedCall.status()).toBe(401);

  // Directory sync: a CSV folder source, run from the console.
  const folder = path.join(dir, 'drop');
  fs.mkdirSync(folder);
  await page.goto(info.url + '/admin/sync');
  const sync = page.locator('.sync');
  await expect(sync).toHaveAttribute('data-loaded', 'true');
  const addForm = sync.locator('.add-source');
  await addForm.getByLabel('Name', { exact: true }).fill('e2e-drop');
  await addForm.getByLabel('Kind').selectOption('csv');
  await addForm.getByLabel('Folder on the server').fill(path.join(dir, 'missing'));
  await addForm.getByRole('button', { name: 'Add a source' }).click();
  await expect(sync.getByRole('alert')).toContainText('not a directory');
  await addForm.getByLabel('Folder on the server').fill(folder);
  await addForm.getByRole('button', { name: 'Add a source' }).click();
  const source = page.locator('.sync-source[data-source="e2e-drop"]');
  await expect(source).toBeVisible();
  await source.getByLabel('Interval (e.g. 15m, 1h)').fill('1h');
  await source.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.sync-saved')).toBeVisible();
  const listed = JSON.parse(passgrid(info, ['--json', 'sync', 'list'])).find((s: any) => s.name === 'e2e-drop');
  expect(listed.interval_secs).toBe(3600);
  await source.getByRole('button', { name: 'Run now' }).click();
  await expect(page.locator('.sync-result')).toContainText('e2e-drop');
  await expect(source.locator('.sync-runs tbody tr')).toHaveCount(1);
});
