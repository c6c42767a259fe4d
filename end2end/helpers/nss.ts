// A browser profile like a real user's: an NSS database that trusts passgrid's CA
// and (optionally) holds the device's PKCS#12, plus an auto-select rule so Chromium
// presents the certificate without a prompt (headless cannot click one).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ClientCert, ServerInfo, scratchDir } from './server';

export interface Profile {
  home: string;
  userDataDir: string;
}

export function makeProfile(info: ServerInfo, cert: ClientCert | null): Profile {
  const home = scratchDir('home-');
  const nss = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(nss, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'passgrid-ca', '-t', 'C,,', '-i', info.caPem]);
  if (cert) {
    execFileSync('pk12util', ['-i', cert.p12Path, '-d', `sql:${nss}`, '-W', cert.p12Password, '-K', '']);
  }
  const userDataDir = path.join(home, 'chromium');
  fs.mkdirSync(path.join(userDataDir, 'Default'), { recursive: true });
  const caCn = new X509Certificate(fs.readFileSync(info.caPem)).subject
    .split('\n')
    .find((l) => l.startsWith('CN='))!
    .slice(3);
  const prefs = {
    profile: {
      content_settings: {
        exceptions: {
          auto_select_certificate: {
            [`${info.origin},*`]: { setting: { filters: [{ ISSUER: { CN: caCn } }] } },
          },
        },
      },
    },
  };
  fs.writeFileSync(path.join(userDataDir, 'Default', 'Preferences'), JSON.stringify(prefs));
  return { home, userDataDir };
}
