// One server for the whole run; its CA must exist before the workers start, because
// Node reads NODE_EXTRA_CA_CERTS only at start-up (Playwright's clientCertificates
// proxy verifies the server with Node's TLS).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServer, STATE_FILE } from './server';

export default async function globalSetup() {
  // Every data dir, certificate and browser profile of this run lives here.
  process.env.E2E_SCRATCH_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'passgrid-e2e-'));
  const logFile = path.join(path.dirname(STATE_FILE), 'server.log');
  const { info, child } = await startServer(logFile);
  child.unref();
  (child.stdout as any)?.unref?.();
  fs.writeFileSync(STATE_FILE, JSON.stringify({ ...info, scratchDir: process.env.E2E_SCRATCH_DIR }));
  process.env.NODE_EXTRA_CA_CERTS = info.caPem;
}
