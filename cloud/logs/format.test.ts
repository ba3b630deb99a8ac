import { describe, expect, it } from 'vitest';
import { formatOsloLine, osloAsctime, userIdentity, type LogContext } from './format.ts';
import { accessMessage, startLines, stopLines, type AccessRecord } from './service-lines.ts';

const TIME = new Date('2026-11-24T06:10:42.098Z');
const REQUEST_ID = 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e';
const USER = '8f4e2d1c0b9a48f7a6e5d4c3b2a19080';
const PROJECT = '1a2b3c4d5e6f40718293a4b5c6d7e8f9';
const CONTEXT: LogContext = { requestId: REQUEST_ID, userId: USER, projectId: PROJECT, domainId: 'default' };

/** What a log collector matches: oslo.log's context and default formats. */
const OSLO_LINE =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) (\d+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) \[(?:-|(?:(\S+) )?(req-[0-9a-f-]{36}) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+))\] (.*)$/;

describe('oslo.log line format', () => {
  it('writes the context form of oslo.log >= 5.0: global request id (None), request id, user identity', () => {
    const line = formatOsloLine({ time: TIME, pid: 12345, level: 'INFO', logger: 'nova.api.openstack.wsgi', message: 'HTTP exception thrown: Flavor 9 could not be found.', context: CONTEXT }, { globalRequestId: true });
    expect(line).toBe(`2026-11-24 06:10:42.098 12345 INFO nova.api.openstack.wsgi [None ${REQUEST_ID} ${USER} ${PROJECT} - - default default] HTTP exception thrown: Flavor 9 could not be found.`);
    const match = OSLO_LINE.exec(line);
    expect(match?.slice(1, 14)).toEqual(['2026-11-24 06:10:42.098', '12345', 'INFO', 'nova.api.openstack.wsgi', 'None', REQUEST_ID, USER, PROJECT, '-', '-', 'default', 'default', 'HTTP exception thrown: Flavor 9 could not be found.']);
  });

  it('writes the Train-to-Yoga form without the global request id', () => {
    const line = formatOsloLine({ time: TIME, pid: 12345, level: 'INFO', logger: 'nova.api.openstack.wsgi', message: 'hello', context: CONTEXT }, { globalRequestId: false });
    expect(line).toBe(`2026-11-24 06:10:42.098 12345 INFO nova.api.openstack.wsgi [${REQUEST_ID} ${USER} ${PROJECT} - - default default] hello`);
    expect(line).toMatch(OSLO_LINE);
  });

  it('prints a caller-supplied global request id first', () => {
    const global = 'req-0f0e0d0c-0b0a-4909-8807-060504030201';
    const line = formatOsloLine({ time: TIME, pid: 7, level: 'WARNING', logger: 'nova.compute.api', message: 'x', context: { ...CONTEXT, globalRequestId: global } }, { globalRequestId: true });
    expect(line).toContain(`[${global} ${REQUEST_ID} ${USER}`);
  });

  it('writes the default form [-] without a context, and without a request id', () => {
    const expected = '2026-11-24 06:10:42.098 12345 INFO nova.service [-] Starting compute node (version 27.1.0)';
    expect(formatOsloLine({ time: TIME, pid: 12345, level: 'INFO', logger: 'nova.service', message: 'Starting compute node (version 27.1.0)' }, { globalRequestId: true })).toBe(expected);
    expect(formatOsloLine({ time: TIME, pid: 12345, level: 'INFO', logger: 'nova.service', message: 'Starting compute node (version 27.1.0)', context: { ...CONTEXT, requestId: '' } }, { globalRequestId: true })).toBe(expected);
    expect(expected).toMatch(OSLO_LINE);
  });

  it("prints '-' for every empty identity field, like oslo.log's _ReplaceFalseValue", () => {
    expect(userIdentity({ requestId: REQUEST_ID, userId: null, projectId: '', domainId: null })).toBe('- - - - - -');
    expect(userIdentity({ ...CONTEXT, scopeDomainId: 'd1', systemScope: 'all', projectDomainId: 'other' })).toBe(`${USER} ${PROJECT} d1 all default other`);
  });

  it("puts Nova's instance prefix before the message and the source after DEBUG lines", () => {
    const instance = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c';
    expect(formatOsloLine({ time: TIME, pid: 1, level: 'INFO', logger: 'nova.compute.manager', message: 'Took 3.21 seconds to build instance.', context: CONTEXT, instance }, { globalRequestId: true })).toBe(
      `2026-11-24 06:10:42.098 1 INFO nova.compute.manager [None ${REQUEST_ID} ${USER} ${PROJECT} - - default default] [instance: ${instance}] Took 3.21 seconds to build instance.`,
    );
    expect(formatOsloLine({ time: TIME, pid: 1, level: 'DEBUG', logger: 'nova.compute.manager', message: 'Lock acquired', source: { funcName: 'inner', pathname: '/opt/stack/nova/nova/utils.py', lineno: 1234 } }, { globalRequestId: true })).toBe(
      '2026-11-24 06:10:42.098 1 DEBUG nova.compute.manager [-] Lock acquired inner /opt/stack/nova/nova/utils.py:1234',
    );
  });

  it('formats asctime with milliseconds in UTC', () => {
    expect(osloAsctime(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02 03:04:05.006');
  });
});

describe('service start, stop and access lines', () => {
  it('writes the lines nova and cinder write at start', () => {
    expect(startLines('nova-compute', '27.1.0')).toEqual([{ level: 'INFO', logger: 'nova.service', message: 'Starting compute node (version 27.1.0)' }]);
    expect(startLines('nova-conductor', '27.1.0')[0]?.message).toBe('Starting conductor node (version 27.1.0)');
    expect(startLines('nova-api', '27.1.0')).toEqual([{ level: 'INFO', logger: 'nova.wsgi', message: 'osapi_compute listening on 0.0.0.0:8774' }]);
    expect(startLines('cinder-volume', '22.1.0')).toEqual([{ level: 'INFO', logger: 'cinder.service', message: 'Starting cinder-volume node (version 22.1.0)' }]);
  });

  it("writes oslo.service's exit line at stop, and the WSGI shutdown for an API", () => {
    expect(stopLines('nova-compute')).toEqual([{ level: 'INFO', logger: 'oslo_service.service', message: 'Caught SIGTERM, exiting' }]);
    expect(stopLines('nova-api').map((l) => `${l.logger} ${l.message}`)).toEqual(['oslo_service.service Caught SIGTERM, exiting', 'nova.wsgi Stopping WSGI server.', 'nova.wsgi WSGI server has stopped.']);
  });

  const record: AccessRecord = { clientIp: '10.0.0.5', method: 'GET', uri: '/v2.1/servers/detail?all_tenants=1', httpVersion: '1.1', status: 200, length: 1830, seconds: 0.169022149, microversion: '2.79', time: TIME };

  it('formats each API style exactly', () => {
    expect(accessMessage('nova', record)).toBe('10.0.0.5 "GET /v2.1/servers/detail?all_tenants=1 HTTP/1.1" status: 200 len: 1830 time: 0.1690221');
    expect(accessMessage('oslo-service', { ...record, uri: '/v2.0/networks' })).toBe('10.0.0.5 "GET /v2.0/networks HTTP/1.1" status: 200  len: 1830 time: 0.1690221');
    expect(accessMessage('eventlet', { ...record, uri: '/v2/images' })).toBe('10.0.0.5 - - [24/Nov/2026 06:10:42] "GET /v2/images HTTP/1.1" 200 1830 0.169022');
    expect(accessMessage('requestlog', { ...record, uri: '/compute/v2.1/servers' })).toBe('10.0.0.5 "GET /compute/v2.1/servers" status: 200 len: 1830 microversion: 2.79 time: 0.169022');
    expect(accessMessage('placement', { ...record, uri: '/placement/resource_providers', microversion: null })).toBe('10.0.0.5 "GET /placement/resource_providers" status: 200 len: 1830 microversion: -');
  });
});
