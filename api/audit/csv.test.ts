import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../storage/index.ts';
import { CSV_HEADER, csvField, csvLine, jsonLine } from './csv.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const row: AuditRow = {
  id: '00000000-0000-5000-8000-000000000001',
  event_time: '2026-01-01 10:00:00.123456',
  action: 'update/os-stop',
  outcome: 'success',
  event_type: 'audit.http.response',
  type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
  initiator_id: 'u1',
  initiator_type: 'service/security/account/user',
  initiator_name: 'O"Brien, Pat',
  project_id: 'p1',
  initiator_address: '10.0.0.1',
  initiator_agent: null,
  target_id: 'vm-1',
  target_type: 'service/compute/servers/server',
  target_address: 'line1\nline2',
  observer_id: 'target',
  observer_type: 'service/compute',
  reason_code: '202',
  request_id: null,
  raw: '{"id":"cadf-1","note":"a,b"}',
};

describe('export lines', () => {
  it('quotes CSV fields as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField("' OR 1=1 --")).toBe("' OR 1=1 --");
  });

  it('writes one CSV line per record, in the header order, raw as JSON', () => {
    expect(CSV_HEADER.startsWith('id,event_time,action,outcome,')).toBe(true);
    expect(CSV_HEADER.trimEnd().endsWith('request_id,raw')).toBe(true);
    expect(csvLine(row)).toBe(
      '00000000-0000-5000-8000-000000000001,2026-01-01T10:00:00.123456+00:00,update/os-stop,success,audit.http.response,' +
        'http://schemas.dmtf.org/cloud/audit/1.0/event,u1,service/security/account/user,"O""Brien, Pat",p1,10.0.0.1,,vm-1,' +
        'service/compute/servers/server,"line1\nline2",target,service/compute,202,,"{""id"":""cadf-1"",""note"":""a,b""}"\r\n',
    );
  });

  it('writes one JSON object per line', () => {
    const line = jsonLine(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ id: row.id, event_time: '2026-01-01T10:00:00.123456+00:00', raw: { id: 'cadf-1' }, target_address: 'line1\nline2' });
  });
});

describe('the next cursor', () => {
  it('round-trips and refuses anything else, naming next', () => {
    const cursor = { eventTime: '2026-01-01 10:00:00.123456', id: '00000000-0000-5000-8000-000000000001', order: 'desc' as const };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    for (const bad of ['x', Buffer.from('[1,2,3]').toString('base64url'), encodeCursor({ ...cursor, id: "' OR 1=1 --" }), encodeCursor({ ...cursor, eventTime: 'now()' })]) {
      expect(() => decodeCursor(bad)).toThrow(/Invalid value for next/);
    }
  });
});
