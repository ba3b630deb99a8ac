import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The real python-openstackclient from Debian (run under /usr/bin/python3's packages). */
export const OPENSTACK_CLI = '/usr/bin/openstack';

export function cliAvailable(): boolean {
  return existsSync(OPENSTACK_CLI);
}

export interface CliCredentials {
  authUrl: string;
  username: string;
  password: string;
  project: string;
}

/** The credentials as an openrc sets them (Keystone v3 password auth, Default domains). */
export function openrc(creds: CliCredentials): Record<string, string> {
  return {
    OS_AUTH_URL: creds.authUrl,
    OS_USERNAME: creds.username,
    OS_PASSWORD: creds.password,
    OS_PROJECT_NAME: creds.project,
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
  };
}

/**
 * Runs a Debian OpenStack CLI (`binary`) with `env` (what an openrc sets) and, with `json`
 * (default), `-f json` added and its output parsed. Rejects with the CLI's stderr.
 */
export async function runCli<T = unknown>(binary: string, env: Readonly<Record<string, string>>, args: readonly string[], options: { json?: boolean; timeoutMs?: number } = {}): Promise<T> {
  const json = options.json ?? true;
  try {
    const { stdout } = await run(binary, [...args, ...(json ? ['-f', 'json'] : [])], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 });
    return (json ? JSON.parse(stdout) : stdout) as T;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${basename(binary)} ${args.join(' ')} failed: ${e.stderr?.trim() || e.stdout?.trim() || e.message}`);
  }
}

/**
 * Runs `openstack <args> -f json` with the credentials in the environment (as operators
 * do with an openrc), and parses the JSON it prints. Rejects with the CLI's stderr.
 */
export async function openstack<T = unknown>(creds: CliCredentials, args: readonly string[], options: { json?: boolean; timeoutMs?: number } = {}): Promise<T> {
  const env = {
    ...openrc(creds),
    OS_IDENTITY_API_VERSION: '3',
    OS_INTERFACE: 'public',
    OS_REGION_NAME: 'RegionOne',
  };
  return runCli<T>(OPENSTACK_CLI, env, args, options);
}
