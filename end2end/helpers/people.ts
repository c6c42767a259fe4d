// What a person sees: axe-core's accessibility check on a page, screenshots for
// reviewers, and signing in by reading the grid as a user does.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, Page } from '@playwright/test';
import { ServerInfo } from './server';

/** Screenshots of every page, kept as an artefact of the run (git-ignored). */
export const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');

/** Figures the run measures, printed and written for the README. */
export const METRICS_FILE = path.join(__dirname, '..', 'test-results', 'metrics.json');

export function recordMetric(name: string, value: number | string) {
  const all = fs.existsSync(METRICS_FILE) ? JSON.parse(fs.readFileSync(METRICS_FILE, 'utf8')) : {};
  all[name] = value;
  fs.mkdirSync(path.dirname(METRICS_FILE), { recursive: true });
  fs.writeFileSync(METRICS_FILE, JSON.stringify(all, null, 2));
  console.log(`MEASURED ${name}: ${value}`);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/** axe-core on the page as it is now; the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as any).axe !== 'undefined');
  // Evaluated by the driver, not as a <script>: the page's CSP rightly refuses those.
  if (!loaded) await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n: any) => ({ target: n.target, html: n.html.slice(0, 200) })),
    }));
  });
  return (result as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails with the rules and elements when axe finds anything serious or critical. */
export async function expectAccessible(page: Page, what: string) {
  const found = await seriousViolations(page);
  expect(found, `${what}: ${JSON.stringify(found, null, 1)}`).toEqual([]);
}

export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The digits at `cells` of the grid on the page (the WASM drew them). */
export async function readOtp(page: Page, cells: number[]): Promise<string> {
  await expect(page.locator('.grid-box')).toHaveAttribute('data-ready', 'true');
  let otp = '';
  for (const c of cells) otp += (await page.locator(`.login-grid [data-cell="${c}"] .digit`).innerText()).trim();
  expect(otp).toMatch(/^[0-9]+$/);
  return otp;
}

/** Signs in through the forms, whatever the page language. */
export async function signIn(page: Page, info: ServerInfo, user: string, cells: number[]) {
  await page.goto(info.url + '/login');
  await page.locator('input[name="user_id"]').fill(user);
  await page.locator('form[action="/login/start"] button[type="submit"]').click();
  const otp = await readOtp(page, cells);
  await page.locator('input[name="otp"]').fill(otp);
  await page.locator('form.otp-form button[type="submit"]').click();
}

/** Whether text holds Japanese (kana or kanji). */
export function hasJapanese(text: string): boolean {
  return /[\u3040-\u30ff\u4e00-\u9fff]/.test(text);
}
