import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, TelemetryRegistry } from '../../core/index.ts';
import { PID_MAX, PID_MIN } from './config.ts';
import { createServiceLogWriter, type ServiceLogWriter } from './writer.ts';

const START = new Date('2026-11-24T06:10:42.098Z');
const CONTEXT = { requestId: 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e', userId: 'u1', projectId: 'p1', domainId: 'default' };

describe('ServiceLogWriter', () => {
  let directory: string;
  let clock: ManualClock;
  let writer: ServiceLogWriter;
  const read = (host: string, service: string) => readFileSync(join(directory, host, `${service}.log`), 'utf8');

  beforeEach(() => {
    directory = join(mkdtempSync(join(tmpdir(), 'cumulus-logs-')), 'logs');
    clock = new ManualClock(START);
    writer = createServiceLogWriter({ directory, apiHost: 'controller' }, { clock });
  });

  afterEach(async () => {
    await writer.stop();
    rmSync(join(directory, '..'), { recursive: true, force: true });
  });

  it('writes one file per host and process under the directory', async () => {
    await writer.start();
    writer.serviceStarted('compute-1', 'nova-compute', '27.1.0');
    writer.serviceStarted('compute-2', 'nova-compute', '27.1.0');
    writer.serviceStarted('controller', 'nova-api', '27.1.0');
    writer.write({ host: 'controller', service: 'nova-conductor', level: 'INFO', logger: 'nova.conductor.manager', message: 'hello' });
    await writer.flush();
    expect(readdirSync(directory).sort()).toEqual(['compute-1', 'compute-2', 'controller']);
    expect(readdirSync(join(directory, 'controller')).sort()).toEqual(['nova-api.log', 'nova-conductor.log']);
    const pid = writer.pidOf('compute-1', 'nova-compute');
    expect(read('compute-1', 'nova-compute')).toBe(`2026-11-24 06:10:42.098 ${pid} INFO nova.service [-] Starting compute node (version 27.1.0)\n`);
    expect(read('controller', 'nova-api')).toBe(`2026-11-24 06:10:42.098 ${writer.pidOf('controller', 'nova-api')} INFO nova.wsgi [-] osapi_compute listening on 0.0.0.0:8774\n`);
  });

  it('stamps lines with the injected clock, so warped time shows', async () => {
    writer.write({ host: 'compute-1', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: 'one' });
    clock.advance(3 * 24 * 3600 * 1000 + 1);
    writer.write({ host: 'compute-1', service: 'nova-compute', level: 'WARNING', logger: 'nova.compute.manager', message: 'two', context: CONTEXT });
    await writer.flush();
    const pid = writer.pidOf('compute-1', 'nova-compute');
    expect(read('compute-1', 'nova-compute').split('\n')).toEqual([
      `2026-11-24 06:10:42.098 ${pid} INFO nova.compute.manager [-] one`,
      `2026-11-27 06:10:42.099 ${pid} WARNING nova.compute.manager [None ${CONTEXT.requestId} u1 p1 - - default default] two`,
      '',
    ]);
  });

  it('appends to existing files, also from a new writer', async () => {
    writer.write({ host: 'compute-1', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: 'first run' });
    await writer.stop();
    writer = createServiceLogWriter({ directory, apiHost: 'controller' }, { clock });
    writer.write({ host: 'compute-1', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: 'second run' });
    await writer.flush();
    const lines = read('compute-1', 'nova-compute').trimEnd().split('\n');
    expect(lines.map((l) => l.slice(l.lastIndexOf(' [-] ') + 5))).toEqual(['first run', 'second run']);
  });

  it('keeps lines in the order they were written', async () => {
    for (let i = 0; i < 500; i++) writer.write({ host: 'compute-1', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: `line ${i}` });
    await writer.flush();
    const lines = read('compute-1', 'nova-compute').trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines.every((l, i) => l.endsWith(` line ${i}`))).toBe(true);
  });

  it('gives one pid per running process: stable, distinct on a host, new after a restart, reproducible', async () => {
    const compute = writer.pidOf('compute-1', 'nova-compute');
    expect(writer.pidOf('compute-1', 'nova-compute')).toBe(compute);
    expect(compute).toBeGreaterThanOrEqual(PID_MIN);
    expect(compute).toBeLessThanOrEqual(PID_MAX);
    const services = ['nova-api', 'nova-conductor', 'nova-scheduler', 'nova-novncproxy', 'cinder-api', 'cinder-scheduler', 'cinder-volume', 'glance-api', 'neutron-server', 'placement-api', 'keystone'];
    const pids = services.map((s) => writer.pidOf('controller', s));
    expect(new Set(pids).size).toBe(services.length);

    const stopLines = writer.serviceStopped('compute-1', 'nova-compute');
    expect(stopLines).toEqual([`2026-11-24 06:10:42.098 ${compute} INFO oslo_service.service [-] Caught SIGTERM, exiting`]);
    const [started] = writer.serviceStarted('compute-1', 'nova-compute', '27.1.0');
    const restarted = writer.pidOf('compute-1', 'nova-compute');
    expect(restarted).not.toBe(compute);
    expect(started).toContain(` ${restarted} INFO nova.service [-] Starting compute node (version 27.1.0)`);

    const other = createServiceLogWriter({ directory, apiHost: 'controller' }, { clock });
    expect(other.pidOf('compute-1', 'nova-compute')).toBe(compute);
    await other.stop();
  });

  it('refuses host and service names that would leave the directory', () => {
    for (const [host, service] of [['../etc', 'nova-api'], ['compute-1', '../../passwd'], ['compute/1', 'nova'], ['', 'nova-api'], ['compute-1', '.hidden']]) {
      expect(() => writer.write({ host: host as string, service: service as string, level: 'INFO', logger: 'x', message: 'y' })).toThrow(expect.objectContaining({ code: 'CUMULUS_LOGS_NAME_INVALID' }));
    }
    expect(existsSync(join(directory, '..', 'etc'))).toBe(false);
  });

  it('refuses a bad config naming the key', () => {
    expect(() => createServiceLogWriter({ directory: '' }, { clock })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('logs.directory') }));
    expect(() => createServiceLogWriter({ directory, apiHost: 'a b' }, { clock })).toThrow(/logs\.apiHost/);
  });

  it('writes the Train-to-Yoga context form when globalRequestId is false', async () => {
    const legacy = createServiceLogWriter({ directory, globalRequestId: false }, { clock });
    const line = legacy.write({ host: 'compute-9', service: 'nova-compute', level: 'INFO', logger: 'nova.compute.manager', message: 'x', context: CONTEXT });
    expect(line).toContain(`INFO nova.compute.manager [${CONTEXT.requestId} u1 p1 - - default default] x`);
    await legacy.stop();
  });

  it('stops idempotently, also before start, and refuses writes after stop', async () => {
    const idle = createServiceLogWriter({ directory }, { clock });
    await idle.stop();
    await idle.stop();
    expect(() => idle.write({ host: 'h', service: 's', level: 'INFO', logger: 'x', message: 'y' })).toThrow(expect.objectContaining({ code: 'CUMULUS_LOGS_WRITER_STOPPED' }));
  });

  it('counts lines on disk in its telemetry', async () => {
    const telemetry = new TelemetryRegistry().component('cloud.logs');
    const counted = createServiceLogWriter({ directory }, { clock, telemetry });
    counted.serviceStarted('controller', 'nova-api', '27.1.0');
    counted.serviceStopped('controller', 'nova-api');
    await counted.stop();
    expect(telemetry.snapshot()).toMatchObject({ accepted: 4, dropped: 0 });
  });
});
