// Boots the real passgrid binary on a free port with a fresh data directory, and
// runs its command line for fixtures (users, certificates): nothing is written to the
// database by hand.
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
// Where cargo and `cargo xtask build-site` put their output (CARGO_TARGET_DIR if set).
export const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? path.resolve(REPO, process.env.CARGO_TARGET_DIR)
  : path.join(REPO, 'target');
export const TEST_PASSGRID_BIN = process.env.TEST_PASSGRID_BIN ?? path.join(TARGET_DIR, 'debug', 'passgrid');
export const SITE_ROOT = process.env.PASSGRID_SITE_ROOT ?? path.join(TARGET_DIR, 'site');
export const STATE_FILE = path.join(__dirname, '..', 'test-results', 'server.json');

/** One scratch folder per run (made by the global set-up, removed by the teardown). */
export function scratchDir(prefix: string): string {
  const root = process.env.E2E_SCRATCH_DIR ?? os.tmpdir();
  return fs.mkdtempSync(path.join(root, prefix));
}

export interface ServerInfo {
  url: string;
  origin: string;
  dataDir: string;
  caPem: string;
  setupLink: string | null;
  pid: number;
  logFile: string;
  /** The RADIUS server's UDP address, when `[radius] listen` is configured. */
  radius?: string | null;
}

/**
 * `globalArgs` go before `serve` (e.g. `--config FILE`); `dataDir` lets a second
 * server share an installation (its database and CA) with the first.
 */
export async function startServer(
  logFile: string,
  globalArgs: string[] = [],
  dataDir: string = scratchDir('data-'),
): Promise<{ info: ServerInfo; child: ChildProcess }> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'w');
  const child = spawn(
    TEST_PASSGRID_BIN,
    ['--data-dir', dataDir, ...globalArgs, '--json', 'serve', '--listen', '127.0.0.1:0', '--site-root', SITE_ROOT],
    { stdio: ['ignore', 'pipe', log], env: { ...process.env, RUST_LOG: 'info,passgrid=debug' } },
  );
  const banner = await new Promise<any>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start; see ${logFile}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}; see ${logFile}`));
    });
  });
  const info: ServerInfo = {
    url: banner.url,
    origin: banner.url,
    dataDir,
    caPem: banner.ca_pem,
    setupLink: banner.setup_link,
    pid: child.pid!,
    logFile,
    radius: banner.radius ?? null,
  };
  return { info, child };
}

export function readServerInfo(): ServerInfo {
  return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
}

/** Runs a passgrid subcommand against the test server's data directory. */
export function passgrid(info: ServerInfo, args: string[]): string {
  return execFileSync(TEST_PASSGRID_BIN, ['--data-dir', info.dataDir, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface ClientCert {
  dir: string;
  certPath: string;
  keyPath: string;
  p12Path: string;
  p12Password: string;
}

/**
 * A device's certificate as a real user gets one: the key is made on the "device"
 * (openssl), the CSR goes to passgrid's CA, and the result is bundled as PKCS#12.
 */
export function issueClientCert(info: ServerInfo, userId: string): ClientCert {
  const dir = scratchDir(`cert-${userId}-`);
  const keyPath = path.join(dir, 'key.pem');
  const csrPath = path.join(dir, 'req.csr');
  const certPath = path.join(dir, 'cert.pem');
  const p12Path = path.join(dir, 'device.p12');
  const p12Password = 'e2e-' + Math.random().toString(36).slice(2);
  passgrid(info, ['user', 'add', userId, '--name', `E2E ${userId}`, '--email', `${userId}@example.com`]);
  execFileSync('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-subj', `/CN=ignored-by-passgrid`, '-out', csrPath,
  ], { stdio: 'ignore' });
  passgrid(info, ['cert', 'issue', userId, '--csr', csrPath, '--out', certPath]);
  execFileSync('openssl', [
    'pkcs12', '-export', '-inkey', keyPath, '-in', certPath, '-certfile', info.caPem,
    '-out', p12Path, '-passout', `pass:${p12Password}`,
  ], { stdio: 'ignore' });
  return { dir, certPath, keyPath, p12Path, p12Password };
}
