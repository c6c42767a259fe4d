// Canvas-only grids (SPEC §1.8): with the policy on, the digits are painted and never
// become page text. The test reads them the way a person does — from the picture —
// by matching each cell's pixels against the digits 0–9 drawn by the same browser in
// the same font, then logs in with them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { test, expect, Page } from '@playwright/test';
import { passgrid, scratchDir, startServer, ServerInfo } from '../helpers/server';

test.use({ ignoreHTTPSErrors: true, locale: 'en-US' });

let info: ServerInfo;
let child: ChildProcess;

test.beforeAll(async () => {
  const dir = scratchDir('canvas-');
  const config = path.join(dir, 'passgrid.toml');
  fs.writeFileSync(config, '[auth]\ngrid_canvas_only = true\n');
  const logFile = path.join(__dirname, '..', 'test-results', 'server-canvas.log');
  ({ info, child } = await startServer(logFile, ['--config', config]));
});

test.afterAll(() => {
  child?.kill('SIGTERM');
});

/** The digits at `cells`, read from the canvas's pixels. */
async function readFromPicture(page: Page, cells: number[]): Promise<string> {
  return page.evaluate((cells) => {
    // The geometry of app/src/components/grid_canvas.rs.
    const CELL = 44, GAP = 3, BLOCK_GAP = 12, PAD = 4, BLOCK = 4;
    const canvas = document.querySelector('canvas.grid-canvas') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d')!;
    const ratio = Math.max(window.devicePixelRatio, 1);
    const cols = Number(canvas.dataset.cols);
    const offset = (i: number) => PAD + i * (CELL + GAP) + Math.floor(i / BLOCK) * BLOCK_GAP;
    const size = Math.round(CELL * ratio);
    const ink = (data: Uint8ClampedArray) => {
      const mask: boolean[] = [];
      for (let i = 0; i < data.length; i += 4) mask.push(data[i] < 128);
      return mask;
    };
    // Reference glyphs, drawn exactly as the component draws a cell.
    const scratch = document.createElement('canvas');
    scratch.width = size;
    scratch.height = size;
    const sctx = scratch.getContext('2d')!;
    const references = Array.from({ length: 10 }, (_, digit) => {
      sctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      sctx.fillStyle = '#ffffff';
      sctx.fillRect(0, 0, CELL, CELL);
      sctx.font = ctx.font;
      sctx.textAlign = 'center';
      sctx.textBaseline = 'middle';
      sctx.fillStyle = '#1b2330';
      sctx.fillText(String(digit), CELL / 2, CELL / 2 + 1);
      return ink(sctx.getImageData(0, 0, size, size).data);
    });
    return cells
      .map((cell) => {
        const x = Math.round(offset(cell % cols) * ratio);
        const y = Math.round(offset(Math.floor(cell / cols)) * ratio);
        const seen = ink(ctx.getImageData(x, y, size, size).data);
        let best = -1, bestScore = -1;
        references.forEach((ref, digit) => {
          const score = ref.reduce((n, on, i) => n + (on === seen[i] ? 1 : 0), 0);
          if (score > bestScore) [best, bestScore] = [digit, score];
        });
        return String(best);
      })
      .join('');
  }, cells);
}

test('a canvas-only grid keeps its digits out of the page and still logs the user in', async ({ page }) => {
  const added = JSON.parse(passgrid(info, ['--json', 'user', 'add', 'e2e-canvas']));
  const cells: number[] = added.initial_pattern.cells;

  await page.goto(info.url + '/login');
  await page.getByLabel('User ID').fill('e2e-canvas');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
  const picture = page.getByRole('img', { name: 'Random number table, shown as a picture only' });
  await expect(picture).toBeVisible();
  // No cell of the text grid, and no digit anywhere in the grid's part of the page.
  await expect(page.locator('[data-cell]')).toHaveCount(0);
  expect(await page.locator('.grid-box').innerText()).not.toMatch(/[0-9]/);
  await expect(page.getByText('cannot be read out by screen readers')).toBeVisible();

  const otp = await readFromPicture(page, cells);
  expect(otp).toMatch(/^[0-9]+$/);
  await page.getByLabel('One-time password').fill(otp);
  await page.getByRole('button', { name: 'Log in' }).click();
  // The initial pattern worked: registering one's own comes next.
  await expect(page).toHaveURL(/\/me\/pattern$/);
});
