import * as fs from 'node:fs';
import { readServerInfo, STATE_FILE } from './server';

export default async function globalTeardown() {
  if (!fs.existsSync(STATE_FILE)) return;
  const info = readServerInfo();
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const scratch = (info as { scratchDir?: string }).scratchDir;
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
}
