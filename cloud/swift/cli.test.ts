/**
 * The real python-openstackclient (Debian's /usr/bin/openstack) driving Swift over HTTP:
 * what `openstack container ...` and `openstack object ...` send, end to end. Always run
 * in CI (failing if the CLI is missing); elsewhere only with CUMULUS_CLI_TESTS=1, since
 * each CLI run costs about a second (some 14 s in all). The object-store endpoint comes from clouds.yaml's
 * `object_store_endpoint_override`, so the test does not depend on the catalog.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, harness, notifications } from './test-harness.ts';

const OPENSTACK_CLI = '/usr/bin/openstack';
const run = promisify(execFile);
let work = '';
afterEach(() => rmSync(work, { recursive: true, force: true }));

const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const wanted = IN_CI || process.env.CUMULUS_CLI_TESTS === '1';
if (!wanted) process.stderr.write('[skip] swift CLI tests: set CUMULUS_CLI_TESTS=1 to run them outside CI (about 14 s)\n');
// In CI they always run, and fail if the CLI is missing rather than skipping.
describe.runIf(wanted)('swift with the openstack CLI', () => {
  it('has the openstack CLI installed', () => {
    expect(existsSync(OPENSTACK_CLI), `${OPENSTACK_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('creates, lists, shows, saves, tags and deletes containers and objects', { timeout: 60_000 }, async () => {
    work = mkdtempSync(join(tmpdir(), 'cumulus-swift-cli-'));
    const h = await harness({}, { keystone: true });
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    // openstack.config reads ./clouds.yaml first; the CLI ignores OS_*_ENDPOINT_OVERRIDE variables.
    writeFileSync(
      join(work, 'clouds.yaml'),
      [
        'clouds:',
        '  cumulus:',
        '    auth:',
        `      auth_url: ${address}/identity/v3`,
        '      username: admin',
        `      password: ${ADMIN_PASSWORD}`,
        '      project_name: admin',
        '      user_domain_name: Default',
        '      project_domain_name: Default',
        '    identity_api_version: 3',
        '    interface: public',
        `    object_store_endpoint_override: ${address}/object-storage/v1/AUTH_${h.admin.projectId}`,
        '',
      ].join('\n'),
    );
    const env = { PATH: '/usr/bin:/bin', HOME: work, OS_CLOUD: 'cumulus' };
    const openstack = async (...args: string[]): Promise<unknown> => {
      try {
        const { stdout } = await run(OPENSTACK_CLI, [...args, ...(['delete', 'set', 'unset', 'save'].includes(args[1] ?? '') ? [] : ['-f', 'json'])], { env, cwd: work, timeout: 30_000 });
        return stdout.trim() === '' ? null : (JSON.parse(stdout) as unknown);
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
      }
    };
    writeFileSync(join(work, 'hello.txt'), 'hello swift\n');
    const big = Buffer.alloc(300_000, 7);
    writeFileSync(join(work, 'big.bin'), big);

    expect(await openstack('container', 'create', 'photos')).toEqual([{ account: `AUTH_${h.admin.projectId}`, container: 'photos', 'x-trans-id': expect.stringMatching(/^tx/) as string }]);
    await openstack('object', 'create', 'photos', 'hello.txt');
    await openstack('object', 'create', 'photos', 'big.bin', '--name', 'dir/big file.bin');
    expect(await openstack('container', 'list', '--long')).toEqual([{ Name: 'photos', Bytes: 300_012, Count: 2 }]);
    expect(await openstack('object', 'list', 'photos', '--long')).toEqual([
      { Name: 'dir/big file.bin', Bytes: 300_000, Hash: expect.any(String) as string, 'Content Type': 'application/octet-stream', 'Last Modified': '2026-01-02T03:04:05.678000' },
      { Name: 'hello.txt', Bytes: 12, Hash: '3ddb068de95c1c3ea2dedeecd0fe5613', 'Content Type': 'text/plain', 'Last Modified': '2026-01-02T03:04:05.678000' },
    ]);
    await openstack('object', 'save', 'photos', 'dir/big file.bin', '--file', 'back.bin');
    expect(readFileSync(join(work, 'back.bin')).equals(big)).toBe(true);
    await openstack('object', 'set', 'photos', 'hello.txt', '--property', 'color=red');
    expect(await openstack('object', 'show', 'photos', 'hello.txt')).toMatchObject({ 'content-length': '12', 'content-type': 'text/plain', etag: '3ddb068de95c1c3ea2dedeecd0fe5613', properties: { Color: 'red' } });
    expect(await openstack('container', 'show', 'photos')).toMatchObject({ bytes_used: '300012', object_count: '2', storage_policy: 'Policy-0' });
    expect(await openstack('object', 'store', 'account', 'show')).toMatchObject({ Containers: '1', Objects: '2', Bytes: '300012' });
    await openstack('object', 'delete', 'photos', 'hello.txt');
    await openstack('container', 'delete', '--recursive', 'photos');
    expect(await openstack('container', 'list')).toEqual([]);

    // Every request reached ceilometermiddleware's notification; the two uploads' bytes came in.
    await notifications(h, 1);
    const incoming = h.captured.flatMap((n) => n.message.payload.measurements).filter((m) => m.metric.name === 'storage.objects.incoming.bytes');
    expect(incoming.map((m) => m.result).sort((a, b) => a - b)).toEqual([12, 300_000]);
  });
});
