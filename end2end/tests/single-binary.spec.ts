// One file to deploy (issue #20): the release binary copied alone into an empty
// folder — no target/site beside it — serves the sign-in pages, and their WASM draws
// the grid (hydration works from the files embedded in the binary).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect } from '@playwright/test';
import { scratchDir } from '../helpers/server';

const RELEASE_BIN = process.env.E2E_SINGLE_BINARY;

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

test('the release binary alone serves the hydrated sign-in page', async ({ page }) => {
  test.skip(!RELEASE_BIN, 'E2E_SINGLE_BINARY (a release passgrid) is not set');
  const dir = scratchDir('single-');
  const bin = path.join(dir, 'passgrid');
  fs.copyFileSync(RELEASE_BIN!, bin);
  fs.chmodSync(bin, 0o755);
  const data = path.join(dir, 'data');
  const run = (args: string[]) => execFileSync(bin, ['--data-dir', data, ...args], { cwd: dir, encoding: 'utf8' });
  const added = JSON.parse(run(['--json', 'user', 'add', 'single']));
  const cells: number[] = added.initial_pattern.cells;
  const child = spawn(bin, ['--data-dir', data, '--json', 'serve', '--listen', '127.0.0.1:0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const url: string = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).url);
        }
      });
    });
    expect(fs.existsSync(path.join(dir, 'site'))).toBe(false);
    // The WASM (under its content-hashed name) comes from the binary itself.
    const wasm: { url: string; status: number; type: string }[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('.wasm')) {
        wasm.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] ?? '' });
      }
    });

    await page.goto(url + '/login');
    await page.getByLabel('User ID').fill('single');
    await page.getByRole('button', { name: 'Next' }).click();
    // data-ready is set by the WASM once it drew the grid from the seed.
    await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
    expect(wasm.length, 'the grid page loaded its WASM').toBeGreaterThan(0);
    for (const w of wasm) {
      expect(w.status, w.url).toBe(200);
      expect(w.type, w.url).toBe('application/wasm');
    }
    let otp = '';
    for (const c of cells) otp += (await page.locator(`[data-cell="${c}"] .digit`).innerText()).trim();
    await page.getByLabel('One-time password').fill(otp);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(/\/me\/pattern|\/me$/);
  } finally {
    child.kill('SIGTERM');
  }
});
