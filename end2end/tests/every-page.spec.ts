// Every page a person can reach, in English and Japanese at 1280, 768 and 360 px:
// axe-core finds nothing serious or critical, and a screenshot of each goes to
// end2end/test-results/screenshots/ (LANG-WIDTH-PAGE.png) for reviewers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { passgrid, readServerInfo, scratchDir } from '../helpers/server';
import { expectAccessible, screenshot, signIn } from '../helpers/people';

const info = readServerInfo();
const PATTERN = [3, 17, 17, 40, 9, 26, 44];
const WIDTHS = [1280, 768, 360];

test.use({ ignoreHTTPSErrors: true });

/** Waits until every island on the page has hydrated and loaded its data. */
async function settled(page: Page) {
  await page.waitForLoadState('networkidle');
  for (const attr of ['data-hydrated', 'data-loaded', 'data-ready']) {
    await expect(page.locator(`[${attr}="false"]`)).toHaveCount(0, { timeout: 15_000 });
  }
}

for (const lang of ['en', 'ja'] as const) {
  test(`every page in ${lang}: accessible at every width, with screenshots`, async ({ page }) => {
    test.setTimeout(300_000);
    const admin = `pages-${lang}`;
    passgrid(info, ['admin', 'create', admin, '--role', 'admin', '--email', `${admin}@example.com`]);
    passgrid(info, ['user', 'set-pattern', admin, '--cells', PATTERN.join(',')]);
    passgrid(info, ['user', 'add', `${admin}-cert`, '--name', 'Cert Holder']);
    const sheet = path.join(scratchDir('pages-'), 'notices.html');
    const cfg = path.join(scratchDir('cfg-'), 'passgrid.toml');
    fs.writeFileSync(cfg, `[serve]\npublic_url = "${info.url}"\n`);
    passgrid(info, ['--config', cfg, 'cert', 'print', `${admin}-cert`, '--out', sheet]);
    const token = fs.readFileSync(sheet, 'utf8').match(/<dd class="link">[^<]*t=([A-Za-z0-9_-]{43})<\/dd>/)![1];

    await page.goto(info.url + `/lang/${lang}`);
    await signIn(page, info, admin, PATTERN);
    await expect(page).toHaveURL(/\/me$/);
    // An open grid of a sign-in and an open confirmation grid, to look at.
    await page.goto(info.url + '/login');
    await page.locator('input[name="user_id"]').fill(admin);
    await page.locator('form[action="/login/start"] button[type="submit"]').click();
    await expect(page).toHaveURL(/\/login\/grid\?c=/);
    const gridUrl = new URL(page.url()).pathname + new URL(page.url()).search;
    await page.goto(info.url + '/me/pattern');
    const editor = page.locator('form.pattern-editor');
    await expect(editor).toHaveAttribute('data-hydrated', 'true');
    for (const c of [0, 17, 30, 47, 5, 40, 22]) await editor.locator(`[data-cell="${c}"]`).click();
    await editor.locator('button[type="submit"]').click();
    await expect(page).toHaveURL(/\/me\/pattern\/confirm\?c=/);
    const confirmUrl = new URL(page.url()).pathname + new URL(page.url()).search;

    const pages: [string, string][] = [
      ['home', '/'],
      ['login', '/login'],
      ['login-error', '/login?error=failed'],
      ['login-grid', gridUrl],
      ['forgot', '/login/forgot'],
      ['me', '/me'],
      ['pattern', '/me/pattern'],
      ['pattern-confirm', confirmUrl],
      ['token', '/me/token'],
      ['phrase', '/me/phrase'],
      ['vpn', '/me/vpn'],
      ['certificate-issue', '/me/certificate'],
      ['certificate-download', `/certificate?t=${token}`],
      ['certificate-install', '/certificate/install'],
      ['guide-windows', '/help/install/windows'],
      ['setup-link', '/setup/' + 'x'.repeat(43)],
      ['not-found', '/no-such-page'],
      ['admin-dashboard', '/admin'],
      ['admin-users', '/admin/users'],
      ['admin-user', `/admin/users/${admin}-cert`],
      ['admin-groups', '/admin/groups'],
      ['admin-policies', '/admin/policies'],
      ['admin-tokens', '/admin/tokens'],
      ['admin-api-tokens', '/admin/api-tokens'],
      ['admin-sync', '/admin/sync'],
      ['admin-radius', '/admin/radius'],
      ['admin-audit', '/admin/audit'],
    ];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
      for (const [name, url] of pages) {
        await page.goto(info.url + url);
        await settled(page);
        await expect(page.locator('html')).toHaveAttribute('lang', lang);
        await screenshot(page, `${lang}-${width}-${name}`);
        if (width === WIDTHS[0]) {
          // The WASM comes only with islands, and every island gets it.
          const islands = await page.locator('leptos-island').count();
          const wasm = await page.locator('link[rel="preload"][href$=".wasm"]').count();
          expect(wasm > 0, `${name}: ${islands} islands, ${wasm} WASM preloads`).toBe(islands > 0);
        }
        await expectAccessible(page, `${name} (${lang}, ${width} px)`);
      }
    }
  });
}
