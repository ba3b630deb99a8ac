import { describe, expect, it } from 'vitest';
import { DEFAULT_METERS_FILE, loadMeterDefinitions } from '../meters/definitions.ts';
import { MeterMapper } from '../meters/mapper.ts';
import { mapCapture } from './offline.ts';

const message = (id: string, eventType: string) =>
  JSON.stringify({
    'oslo.version': '2.0',
    'oslo.message': JSON.stringify({
      message_id: id,
      publisher_id: 'compute.host-1',
      event_type: eventType,
      priority: 'INFO',
      timestamp: '2026-11-24 06:00:00.123456',
      payload: { instance_id: `vm-${id}`, tenant_id: 'p1', user_id: 'u1', vcpus: 4, memory_mb: 8192, host: 'host-1' },
    }),
  });

describe('offline collect', () => {
  const mapper = new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), 'k'.repeat(32));

  it('maps raw envelopes and bus captures alike, in Ceilometer sample JSON, keeping line numbers of refusals', () => {
    const captured = JSON.stringify({ exchange: 'nova', routing_key: 'notifications.info', body: JSON.parse(message('b', 'compute.instance.delete.end')) });
    const result = mapCapture([message('a', 'compute.instance.create.end'), '', captured, '{"oslo.version": "1.0"}', 'garbage'], mapper);
    expect(result.lines).toBe(4);
    expect(result.samples.map((s) => `${s.name}:${s.resource_id}`)).toEqual(['instance:vm-a', 'vcpus:vm-a', 'memory:vm-a', 'instance:vm-b', 'vcpus:vm-b', 'memory:vm-b']);
    const vcpus = result.samples.find((s) => s.name === 'vcpus');
    expect(vcpus).toMatchObject({ type: 'gauge', unit: 'vcpu', volume: 4, user_id: 'u1', project_id: 'p1', timestamp: '2026-11-24T06:00:00.123456+00:00', source: 'openstack', message_id: 'a' });
    expect(Object.keys(vcpus ?? {}).sort()).toEqual(['id', 'message_id', 'name', 'project_id', 'resource_id', 'resource_metadata', 'source', 'timestamp', 'type', 'unit', 'user_id', 'volume']);
    expect(result.refused).toEqual([
      { line: 4, code: 'CUMULUS_COLLECTOR_UNKNOWN_ENVELOPE_VERSION', reason: expect.stringContaining('oslo.version') },
      { line: 5, code: 'CUMULUS_COLLECTOR_MALFORMED_JSON', reason: expect.stringContaining('not JSON') },
    ]);
  });
});
