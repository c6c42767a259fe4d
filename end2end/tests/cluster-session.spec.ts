// A browser behind HAProxy keeps its session when the passgrid server it used dies
// (issue #20): sessions live in the database, so any server answers for them. Runs
// from tests/cluster/run.sh, which brings the cluster up and sets CLUSTER_DIR.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { REPO } from '../helpers/server';

const CLUSTER_DIR = process.env.E2E_CLUSTER_DIR;
const CELLS = [3, 17, 17, 40, 9, 26, 44];

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(CLUSTER_DIR!, 'env'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)='?(.*?)'?$/);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function cluster(args: string[]) {
  execFileSync('bash', [path.join(REPO, 'deploy', 'cluster.sh'), ...args], {
    env: { ...process.env, ...clusterEnv() },
    stdio: 'ignore',
  });
}

async function signedIn(page: Page, url: string) {
  await page.goto(url + '/me');
  await expect(page).toHaveURL(/\/me$/);
  await expect(page.locator('.user-id')).toHaveText('bench');
}

test('the session survives the death of either server', async ({ page }) => {
  test.skip(!CLUSTER_DIR, 'runs inside tests/cluster/run.sh (E2E_CLUSTER_DIR)');
  const url = clusterEnv().HAPROXY_URL;
  await page.goto(url + '/login');
  await page.getByLabel('User ID').fill('bench');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
  let otp = '';
  for (const c of CELLS) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
  await page.getByLabel('One-time password').fill(otp);
  await page.getByRole('button', { name: 'Log in' }).click();
  await signedIn(page, url);

  // Whichever server the browser talked to, one of these kills is its server's.
  cluster(['kill-server', '1']);
  await signedIn(page, url);
  cluster(['start-server', '1']);
  cluster(['kill-server', '2']);
  await signedIn(page, url);
  cluster(['start-server', '2']);
});
