import { existsSync } from 'node:fs';
import { openrc, runCli, type CliCredentials } from './openstack-cli.ts';

/** The real python3-gnocchiclient from Debian (run under /usr/bin/python3's packages). */
export const GNOCCHI_CLI = '/usr/bin/gnocchi';

export const gnocchiCliAvailable = (): boolean => existsSync(GNOCCHI_CLI);

/**
 * Runs `gnocchi <args>` with Keystone password auth in the environment, as an operator's
 * openrc does (`authUrl`: `<platform url>/identity/v3`; the catalog's `metric` endpoint is
 * found there); with `json` (default) adds `-f json` and parses what it prints. Rejects
 * with the CLI's stderr, which carries the API's error description and HTTP status.
 */
export function gnocchi<T = unknown>(creds: CliCredentials, args: readonly string[], options: { json?: boolean; timeoutMs?: number } = {}): Promise<T> {
  return runCli<T>(GNOCCHI_CLI, { ...openrc(creds), OS_AUTH_TYPE: 'password' }, args, options);
}
