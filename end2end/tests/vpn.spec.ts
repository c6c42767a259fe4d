// The portal's "VPN sign-in" in Chromium (issue #18, PassLogic's way): a person signs
// in, opens VPN sign-in, asks for a grid, reads the digits at their pattern's cells
// off the grid the WASM drew — and those digits, sent by PAP as a VPN client would,
// get an Access-Accept from passgrid's RADIUS server, once. The RADIUS request is
// built here from RFC 2865/3579 with Node's crypto (User-Password hiding,
// Message-Authenticator), and the reply's authenticators are checked the same way.
import { test, expect } from '@playwright/test';
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { passgrid, scratchDir, startServer } from '../helpers/server';
import { expectAccessible, readOtp, screenshot, signIn } from '../helpers/people';

const CELLS = [3, 17, 22, 40, 41, 9];
const SECRET = 'e2e-shared-secret-of-the-vpn';

test.use({ ignoreHTTPSErrors: true });

function md5(...parts: Buffer[]): Buffer {
  const h = crypto.createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** An Access-Request with PAP (RFC 2865 §5.2) and a Message-Authenticator (RFC 3579). */
function accessRequest(id: number, user: string, password: string): { bytes: Buffer; auth: Buffer } {
  const auth = crypto.randomBytes(16);
  const secret = Buffer.from(SECRET);
  const pw = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  Buffer.from(password).copy(pw);
  const hidden: Buffer[] = [];
  let prev = auth;
  for (let i = 0; i < pw.length; i += 16) {
    const b = md5(secret, prev);
    const c = Buffer.alloc(16);
    for (let j = 0; j < 16; j++) c[j] = pw[i + j] ^ b[j];
    hidden.push(c);
    prev = c;
  }
  const attr = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length + 2]), value]);
  const attrs = Buffer.concat([
    attr(1, Buffer.from(user)),
    attr(2, Buffer.concat(hidden)),
    attr(80, Buffer.alloc(16)),
  ]);
  const bytes = Buffer.concat([Buffer.from([1, id, 0, 0]), auth, attrs]);
  bytes.writeUInt16BE(bytes.length, 2);
  const mac = crypto.createHmac('md5', secret).update(bytes).digest();
  mac.copy(bytes, bytes.length - 16);
  return { bytes, auth };
}

/** Sends a request, checks the reply's authenticators, returns its code. */
async function ask(server: { host: string; port: number }, user: string, password: string): Promise<number> {
  const { bytes, auth } = accessRequest(Math.floor(Math.random() * 256), user, password);
  const socket = dgram.createSocket('udp4');
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no RADIUS answer')), 3000);
      socket.on('message', (msg) => { clearTimeout(timer); resolve(msg); });
      socket.send(bytes, server.port, server.host);
    });
    const secret = Buffer.from(SECRET);
    // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
    expect(reply.subarray(4, 20).equals(md5(reply.subarray(0, 4), auth, reply.subarray(20), secret))).toBe(true);
    let at = 20;
    let ma = -1;
    while (at < reply.length) {
      if (reply[at] === 80) ma = at + 2;
      at += reply[at + 1];
    }
    expect(ma).toBeGreaterThan(0);
    const zeroed = Buffer.from(reply);
    auth.copy(zeroed, 4);
    zeroed.fill(0, ma, ma + 16);
    const mac = crypto.createHmac('md5', secret).update(zeroed).digest();
    expect(reply.subarray(ma, ma + 16).equals(mac)).toBe(true);
    return reply[0];
  } finally {
    socket.close();
  }
}

test('a grid from the portal signs in to the VPN by PAP, once', async ({ page }) => {
  test.setTimeout(120_000);
  const dir = scratchDir('vpn-');
  const data = path.join(dir, 'data');
  const config = path.join(dir, 'passgrid.toml');
  fs.writeFileSync(config, '[radius]\nlisten = "127.0.0.1:0"\n');
  fs.writeFileSync(path.join(dir, 'nas.secret'), SECRET + '\n');
  const run = (args: string[]) => passgrid({ dataDir: data } as any, args);
  run(['radius', 'client', 'add', 'vpn', '--address', '127.0.0.1', '--secret-file', path.join(dir, 'nas.secret')]);
  run(['user', 'add', 'vera']);
  run(['user', 'set-pattern', 'vera', '--cells', CELLS.join(',')]);
  const { info, child } = await startServer(path.join(dir, 'server.log'), ['--config', config], data);
  try {
    expect(info.radius, 'the banner names the RADIUS address').toBeTruthy();
    const [host, port] = info.radius!.split(':');
    const radius = { host, port: Number(port) };
    await signIn(page, info, 'vera', CELLS);
    await expect(page).toHaveURL(/\/me$/);
    await page.locator('a.vpn-link').click();
    await expect(page).toHaveURL(/\/me\/vpn$/);
    await expectAccessible(page, 'VPN sign-in');
    await page.locator('button.vpn-show-grid').click();
    await expect(page).toHaveURL(/\/me\/vpn\/grid\?c=/);
    const otp = await readOtp(page, CELLS);
    await screenshot(page, 'en-1280-vpn-grid');
    await expectAccessible(page, 'VPN grid');
    expect(await ask(radius, 'vera', otp)).toBe(2); // Access-Accept
    expect(await ask(radius, 'vera', otp)).toBe(3); // Access-Reject: used once
  } finally {
    child.kill('SIGTERM');
  }
});
