import { describe, expect, it } from 'vitest';
import type { Event } from '../../core/index.ts';
import type { Notification } from '../notifications/envelope.ts';
import { EventConverter } from './converter.ts';
import { DEFAULT_EVENT_DEFINITIONS_FILE, loadEventDefinitions, parseEventDefinitions } from './definitions.ts';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    message_id: '8b3f1c2a-0d4e-4f6a-9b8c-7d6e5f4a3b2c',
    publisher_id: 'compute.cmp-01',
    event_type: 'compute.instance.create.end',
    priority: 'INFO',
    timestamp: '2026-03-02 09:15:07.400000',
    context: { request_id: 'req-1', project_id: 'ctx-project', user_id: 'ctx-user' },
    payload: { tenant_id: 'p1', user_id: 'u1', instance_id: 'i1', vcpus: 2, memory_mb: '2048', launched_at: '2026-03-02 09:15:07.400000+00:00', deleted_at: '', availability_zone: 'nova' },
    ...overrides,
  };
}

const traits = (event: Event | null) => Object.fromEntries((event?.traits ?? []).map((t) => [t.name, [t.type, t.value]]));

const definitions = parseEventDefinitions(
  `
- event_type: compute.instance.*
  traits:
    resource_id: {fields: payload.instance_id}
    vcpus: {type: int, fields: payload.vcpus}
    memory_mb: {type: int, fields: payload.memory_mb}
    launched_at: {type: datetime, fields: payload.launched_at}
    deleted_at: {type: datetime, fields: payload.deleted_at}
- event_type: compute.instance.create.end
  traits:
    zone: {fields: payload.availability_zone}
- event_type: ['image.*', '!image.send']
  traits:
    image_size: {type: int, fields: payload.size}
`,
  'test.yaml',
);

describe('EventConverter', () => {
  it('makes the event: message id, type, generated in UTC, default and defined traits, typed', () => {
    const event = new EventConverter(definitions).convert(notification({ event_type: 'compute.instance.update' }));
    expect(event).toMatchObject({ message_id: '8b3f1c2a-0d4e-4f6a-9b8c-7d6e5f4a3b2c', event_type: 'compute.instance.update', generated: '2026-03-02T09:15:07.400000+00:00' });
    expect(traits(event)).toEqual({
      service: ['string', 'compute.cmp-01'],
      request_id: ['string', 'req-1'],
      project_id: ['string', 'p1'],
      user_id: ['string', 'u1'],
      tenant_id: ['string', 'p1'],
      resource_id: ['string', 'i1'],
      vcpus: ['int', 2],
      memory_mb: ['int', 2048],
      launched_at: ['datetime', '2026-03-02T09:15:07.400000+00:00'],
    });
  });

  it('uses the last matching definition, with no traits of the earlier ones', () => {
    expect(Object.keys(traits(new EventConverter(definitions).convert(notification())))).toEqual(['service', 'request_id', 'project_id', 'user_id', 'tenant_id', 'zone']);
  });

  it('falls back to the default traits, from the context where the payload has none', () => {
    const event = new EventConverter(definitions).convert(notification({ event_type: 'image.send', payload: {} }));
    expect(traits(event)).toEqual({ service: ['string', 'compute.cmp-01'], request_id: ['string', 'req-1'], project_id: ['string', 'ctx-project'], user_id: ['string', 'ctx-user'], tenant_id: ['string', 'ctx-project'] });
  });

  it('drops what no definition matches when told to (drop_unmatched_notifications)', () => {
    const converter = new EventConverter(definitions, { dropUnmatched: true });
    expect(converter.convert(notification({ event_type: 'image.send' }))).toBeNull();
    expect(converter.convert(notification({ event_type: 'image.upload' }))).not.toBeNull();
    expect(converter.definitionFor('volume.create.end')).toBeNull();
  });

  it('a catch-all in the file replaces the built-in one', () => {
    const withCatchAll = parseEventDefinitions(`- {event_type: '*', traits: {everything: {fields: publisher_id}}}`, 'catch.yaml');
    const event = new EventConverter(withCatchAll, { dropUnmatched: false }).convert(notification({ event_type: 'anything.at.all' }));
    expect(traits(event).everything).toEqual(['string', 'compute.cmp-01']);
  });

  it('converts info and error only, as Ceilometer event endpoint does, in any case', () => {
    const converter = new EventConverter(definitions);
    expect(converter.convert(notification({ priority: 'WARN' }))).toBeNull();
    expect(converter.convert(notification({ priority: 'error' }))).not.toBeNull();
    expect(new EventConverter(definitions, { priorities: ['WARN'] }).convert(notification({ priority: 'warn' }))).not.toBeNull();
  });

  it('keeps the notification as raw, in the shape Ceilometer stores, unless told otherwise', () => {
    const n = notification();
    expect(new EventConverter(definitions).convert(n)?.raw).toEqual({
      ctxt: n.context,
      publisher_id: n.publisher_id,
      event_type: n.event_type,
      payload: n.payload,
      metadata: { message_id: n.message_id, timestamp: n.timestamp },
    });
    expect(new EventConverter(definitions, { storeRaw: ['error'] }).convert(n)?.raw).toEqual({});
    expect(new EventConverter(definitions, { storeRaw: ['error'] }).convert(notification({ priority: 'ERROR' }))?.raw).not.toEqual({});
  });

  it('refuses a trait Ceilometer cannot convert, naming it: the listener dead-letters the notification', () => {
    const converter = new EventConverter(definitions);
    const bad = notification({ event_type: 'compute.instance.update', payload: { memory_mb: '2048.0' } });
    expect(() => converter.convert(bad)).toThrow(expect.objectContaining({ code: 'CUMULUS_COLLECTOR_EVENT_TRAIT_INVALID', name: 'MalformedNotificationError' }));
    expect(() => converter.convert(bad)).toThrow(/trait memory_mb \(int, fields payload.memory_mb, from test.yaml definitions\[0\]\).*invalid literal for int\(\) with base 10: '2048.0'/);
    expect(() => converter.convert(notification({ event_type: 'compute.instance.update', payload: { launched_at: 'soon' } }))).toThrow(/launched_at.*not an ISO 8601 time/);
  });

  it('refuses a notification whose own timestamp is not a time', () => {
    expect(() => new EventConverter(definitions).convert(notification({ timestamp: '' }))).toThrow(expect.objectContaining({ code: 'CUMULUS_COLLECTOR_BAD_TIMESTAMP' }));
  });

  it('refuses bad configuration naming the key', () => {
    expect(() => new EventConverter(definitions, { priorities: [] })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('collectors.events.priorities') }));
    expect(() => new EventConverter(definitions, { storeRaw: ['loud'] })).toThrow(/collectors.events.storeRaw/);
  });

  it('converts with the shipped definitions', () => {
    const event = new EventConverter(loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE)).convert(notification());
    expect(traits(event)).toMatchObject({ host: ['string', 'cmp-01'], service: ['string', 'compute'], vcpus: ['int', 2], memory_mb: ['int', 2048], availability_zone: ['string', 'nova'] });
    expect(traits(event).deleted_at).toBeUndefined();
  });
});
