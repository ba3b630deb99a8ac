import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A secret from config, or else one generated once and kept (mode 0600) under
 * `<dataDir>/secrets/`, so a restart keeps the admin password and keeps verifying
 * signatures made before it.
 */
export function persistentSecret(dataDir: string, name: string, configured: string | undefined, bytes = 24): { value: string; generated: boolean } {
  if (configured) return { value: configured, generated: false };
  const dir = join(dataDir, 'secrets');
  const file = join(dir, name);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, generated: true };
}
