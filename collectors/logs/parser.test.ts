import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveId, type LogLevel } from '../../core/index.ts';
import { parseMariadbLogLine, parseRabbitmqLogLine, parseSyslogLine } from './daemon-formats.ts';
import { logRecordId } from './line.ts';
import { parseOsloLogLine, readOsloLine } from './oslo-format.ts';
import { parseLogLine } from './parser.ts';

/**
 * Lines written by cloud/logs' ServiceLogWriter (both oslo.log forms: with the global
 * request id, oslo.log >= 5.0, and without) and by cloud/deployment's MariaDB, RabbitMQ
 * and haproxy line builders, captured verbatim with what each was asked to write.
 */
interface WriterInput {
  level: LogLevel;
  logger: string;
  message: string;
  context?: { requestId: string; userId: string | null; projectId: string | null; globalRequestId?: string };
  instance?: string;
  source?: { funcName: string; pathname: string; lineno: number };
}
interface Capture {
  oslo: Array<{ case: string; globalRequestId: boolean; host: string; service: string; pid: number; input: WriterInput; line: string }>;
  daemons: { mysqld: string[]; rabbitmq: string[]; haproxy: string[] };
}
const capture = JSON.parse(readFileSync(new URL('./testdata/cloud-logs.json', import.meta.url), 'utf8')) as Capture;
const WRITTEN_AT = '2026-11-24T17:00:01.098+00:00';
const NOW = new Date('2026-11-24T18:00:00Z');

describe('parseOsloLogLine on lines cloud/logs wrote', () => {
  it.each(capture.oslo.map((c) => [`${c.case} (${c.globalRequestId ? '[None req-… ]' : '[req-… ]'})`, c] as const))('%s: field by field', (_name, c) => {
    const source = { service: c.service, host: c.host, file: `${c.service}.log`, offset: 4096 };
    const record = parseOsloLogLine(c.line, source);
    const context = c.input.context ?? null;
    const instance = c.input.instance ? `[instance: ${c.input.instance}] ` : '';
    const suffix = c.input.source ? ` ${c.input.source.funcName} ${c.input.source.pathname}:${c.input.source.lineno}` : '';
    expect(record).toEqual({
      id: deriveId('log', c.host, `${c.service}.log`, '4096', c.line),
      timestamp: WRITTEN_AT,
      service: c.service,
      host: c.host,
      pid: c.pid,
      level: c.input.level,
      logger: c.input.logger,
      request_id: context?.requestId ?? null,
      user_id: context?.userId ?? null,
      project_id: context?.projectId ?? null,
      // The message as written: oslo.log's instance prefix and DEBUG's source suffix stay in it.
      message: `${instance}${c.input.message}${suffix}`,
    });
  });

  it('covers the context form, the default form, DEBUG, ERROR and CRITICAL in both oslo.log generations', () => {
    expect(new Set(capture.oslo.map((c) => c.input.level))).toEqual(new Set(['INFO', 'WARNING', 'DEBUG', 'ERROR', 'CRITICAL']));
    expect(capture.oslo.some((c) => c.line.includes(' [None req-'))).toBe(true);
    expect(capture.oslo.some((c) => / \[req-[^ ]+ [0-9a-f]{32} /.test(c.line))).toBe(true);
    expect(capture.oslo.some((c) => c.line.includes(' [-] '))).toBe(true);
  });
});

describe('parseOsloLogLine: the forms other releases write', () => {
  const source = { service: 'nova-compute', host: 'compute-1' };

  it('reads the Pike-to-Yoga form with five identity fields', () => {
    const line = '2017-09-01 10:00:00.001 2211 INFO nova.compute.manager [req-8c0b6a4e-1d3f-4b5a-9c7e-2f1e0d9c8b7a 5f1d 7a2c - - -] Terminating instance';
    expect(parseOsloLogLine(line, source)).toMatchObject({ timestamp: '2017-09-01T10:00:00.001+00:00', pid: 2211, request_id: 'req-8c0b6a4e-1d3f-4b5a-9c7e-2f1e0d9c8b7a', user_id: '5f1d', project_id: '7a2c', message: 'Terminating instance' });
  });

  it('reads a global request id before the local one', () => {
    const line = '2026-11-24 17:00:01.098 25220 INFO heat.engine.service [req-0f0e0d0c-0b0a-4909-8807-060504030201 req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e u1 p1 - - default default] hi';
    expect(parseOsloLogLine(line, source)).toMatchObject({ request_id: 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e', user_id: 'u1', project_id: 'p1' });
  });

  it.each([
    ['TRACE', 'DEBUG'],
    ['AUDIT', 'INFO'],
    ['WARN', 'WARNING'],
    ['FATAL', 'CRITICAL'],
  ])('maps level %s to %s', (written, level) => {
    expect(parseOsloLogLine(`2026-11-24 17:00:01.098 1 ${written} nova.x [-] m`, source)?.level).toBe(level);
  });

  it('reads a traceback line (logging_exception_prefix) as an exception line, not a record head', () => {
    expect(readOsloLine('2026-11-24 17:00:01.098 2211 ERROR nova.compute.manager [instance: 6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c]   File "x.py", line 1')).toMatchObject({
      kind: 'exception',
      fields: { pid: 2211, logger: 'nova.compute.manager', message: '  File "x.py", line 1' },
    });
    expect(readOsloLine('2026-11-24 17:00:01.098 2211 ERROR nova.compute.manager Traceback (most recent call last):')).toMatchObject({ kind: 'exception', fields: { message: 'Traceback (most recent call last):' } });
    expect(readOsloLine('2026-11-24 17:00:01.098 2211 ERROR nova.compute.manager')).toMatchObject({ kind: 'exception', fields: { message: '' } });
    // A traceback line that itself starts with a bracket is no context.
    expect(readOsloLine("2026-11-24 17:00:01.098 2211 ERROR nova.compute.manager [1, 2] != ['a']")).toMatchObject({ kind: 'exception', fields: { message: "[1, 2] != ['a']" } });
  });

  it('returns null for lines in no oslo form', () => {
    for (const line of ['', 'Traceback (most recent call last):', '  File "x.py", line 1', '2026-11-24 17:00:01.098 abc INFO x [-] m', '2026-11-24 17:00:01.098 1 NOTALEVEL x [-] m', '2026-13-24 17:00:01.098 1 INFO x [-] m']) {
      expect(parseOsloLogLine(line, source)).toBeNull();
    }
  });

  it('derives the id from host, file, offset and the line, and defaults the file to <service>.log', () => {
    const line = capture.oslo[0]?.line as string;
    expect(parseOsloLogLine(line, source)?.id).toBe(logRecordId('compute-1', 'nova-compute.log', 0, line));
    expect(parseOsloLogLine(line, { ...source, offset: 10 })?.id).not.toBe(parseOsloLogLine(line, source)?.id);
  });
});

describe('the daemon lines cloud/deployment writes', () => {
  const source = { service: 'mysqld', host: 'controller-1', file: 'mysqld.log' };

  it('reads MariaDB error log lines: service mysqld, level from the tag, the subsystem as logger', () => {
    const [starting, provider, , , , aborted, failed, ready, banner] = capture.daemons.mysqld;
    expect(parseMariadbLogLine(starting as string, source)).toEqual({
      id: deriveId('log', 'controller-1', 'mysqld.log', '0', starting as string),
      timestamp: '2026-11-24T17:00:01+00:00',
      service: 'mysqld',
      host: 'controller-1',
      pid: 0,
      level: 'INFO',
      logger: 'mysqld',
      request_id: null,
      user_id: null,
      project_id: null,
      message: 'Starting MariaDB 10.11.6-MariaDB-0+deb12u1 source revision 8e2b9cdf8a8a5ec0e6a7ad9e5b3aab7b9a8a6b3d as process 4242',
    });
    expect(parseMariadbLogLine(provider as string, source)).toMatchObject({ level: 'INFO', logger: 'WSREP', message: expect.stringMatching(/^WSREP: Loading provider/) });
    expect(parseMariadbLogLine(aborted as string, source)).toMatchObject({ level: 'WARNING', logger: 'mysqld' });
    expect(parseMariadbLogLine(failed as string, source)).toMatchObject({ level: 'ERROR', logger: 'WSREP' });
    expect(parseMariadbLogLine(ready as string, source)).toMatchObject({ level: 'INFO', message: '/usr/sbin/mariadbd: ready for connections.' });
    // The version banner has no prefix: it continues the line before (see the assembler).
    expect(parseLogLine(banner as string, source)).toBeNull();
  });

  it('reads the MySQL 5.7+ and the space-padded MariaDB time stamps', () => {
    expect(parseMariadbLogLine('2026-11-24T17:00:01.123456Z 0 [System] [MY-010116] [Server] starting', source)).toMatchObject({ timestamp: '2026-11-24T17:00:01.123456+00:00', level: 'INFO' });
    expect(parseMariadbLogLine('2018-11-24  7:00:01 0 [Note] InnoDB: ready', source)).toMatchObject({ timestamp: '2018-11-24T07:00:01+00:00', logger: 'InnoDB' });
  });

  it('reads RabbitMQ lines: service rabbitmq, the Erlang process as logger', () => {
    const rabbit = { service: 'rabbit@controller-1', host: 'controller-1', file: 'rabbit@controller-1.log' };
    const [start, , , , closing, reset, , missed] = capture.daemons.rabbitmq;
    expect(parseRabbitmqLogLine(start as string, rabbit)).toEqual({
      id: deriveId('log', 'controller-1', 'rabbit@controller-1.log', '0', start as string),
      timestamp: '2026-11-24T17:00:01.000000+00:00',
      service: 'rabbitmq',
      host: 'controller-1',
      pid: 0,
      level: 'INFO',
      logger: '<0.230.0>',
      request_id: null,
      user_id: null,
      project_id: null,
      message: 'Starting RabbitMQ 3.12.13 on Erlang 26.2.3 [jit]',
    });
    expect(parseRabbitmqLogLine(closing as string, rabbit)).toMatchObject({ level: 'WARNING', logger: '<0.1234.0>' });
    expect(parseRabbitmqLogLine(reset as string, rabbit)).toMatchObject({ level: 'WARNING', logger: '<0.1234.0>', message: 'client unexpectedly closed TCP connection' });
    expect(parseRabbitmqLogLine(missed as string, rabbit)).toMatchObject({ level: 'ERROR', logger: '<0.1240.0>' });
    expect(parseRabbitmqLogLine('2019-01-01 10:00:00.123 [notice] <0.80.0> older form', rabbit)).toMatchObject({ timestamp: '2019-01-01T10:00:00.123+00:00', level: 'INFO' });
  });

  it("reads haproxy's syslog lines, giving them the year that puts them just before now", () => {
    const haproxy = { service: 'haproxy', host: 'controller-1', file: 'haproxy.log', now: NOW };
    const [down, empty] = capture.daemons.haproxy;
    expect(parseSyslogLine(down as string, haproxy)).toMatchObject({ timestamp: '2026-11-24T17:00:01+00:00', service: 'haproxy', pid: 812, level: 'INFO', logger: 'haproxy', message: expect.stringMatching(/^Server nova_api\/controller-2 is DOWN/) });
    expect(parseSyslogLine(empty as string, haproxy)).toMatchObject({ timestamp: '2026-11-04T07:08:09+00:00', message: 'backend nova_api has no server available!' });
    // A December line read on 1 January is last year's.
    expect(parseSyslogLine('Dec 31 23:59:59 controller-1 haproxy[812]: late', { ...haproxy, now: new Date('2027-01-01T00:00:05Z') })?.timestamp).toBe('2026-12-31T23:59:59+00:00');
  });

  it('parseLogLine picks the format by the line', () => {
    const source2 = { service: 'x', host: 'h', now: NOW };
    expect(parseLogLine(capture.daemons.rabbitmq[0] as string, source2)?.service).toBe('rabbitmq');
    expect(parseLogLine(capture.daemons.mysqld[0] as string, source2)?.service).toBe('mysqld');
    expect(parseLogLine(capture.daemons.haproxy[0] as string, source2)?.service).toBe('haproxy');
    expect(parseLogLine(capture.oslo[0]?.line as string, source2)?.service).toBe('x');
    expect(parseLogLine('just text', source2)).toBeNull();
  });
});
