import { describe, expect, it } from 'vitest';
import { InProcessBus, ManualClock, silentLogger, type BusDelivery } from '../../core/index.ts';
import { Notifier, type RequestContext } from '../notifier.ts';
import { pythonQuote, requestPayload, RequestNotifier, type RequestRecord } from './notifications.ts';

const record = (overrides: Partial<RequestRecord> = {}): RequestRecord => ({
  method: 'PUT',
  pathInfo: '/v1/AUTH_p1/c/o',
  userId: 'u1',
  projectId: 'p1',
  bytesReceived: 0,
  bytesSent: 0,
  outcome: 'success',
  timeMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  ...overrides,
});

const context: RequestContext = { requestId: 'req-1', userId: 'u1', userName: 'alice', projectId: 'p1', projectName: 'alice-project', domainId: 'default', roles: ['member'], isAdmin: false, remoteAddress: '127.0.0.1' };

describe('ceilometermiddleware payload', () => {
  it('splits the path as emit_event does: version, account, container, object (the rest, slashes kept)', () => {
    const payload = requestPayload(record({ pathInfo: '/v1/AUTH_p1/c/a/b/c.txt' }));
    expect(payload).toMatchObject({ target: { id: 'p1', action: 'put', metadata: { path: 'v1/AUTH_p1/c/a/b/c.txt', version: 'v1', container: 'c', object: 'a/b/c.txt' } } });
    expect(requestPayload(record({ pathInfo: '/v1/AUTH_p1/c/' }))).toMatchObject({ target: { metadata: { container: 'c', object: '' } } });
    expect(requestPayload(record({ pathInfo: '/v1/AUTH_p1/' }))).toMatchObject({ target: { metadata: { container: null, object: null } } });
    expect(requestPayload(record({ pathInfo: '/v1' }))).toBeNull();
    // An account without the reseller prefix: the middleware falls back to the whole path as resource id.
    expect(requestPayload(record({ pathInfo: '/v1/other/c' }))).toMatchObject({ target: { id: 'v1/other/c' } });
  });

  it('maps the method to the CADF action, and timestamps like datetime.isoformat()', () => {
    const actions = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'COPY'].map((method) => requestPayload(record({ method }))?.action);
    expect(actions).toEqual(['read', 'read', 'create', 'update', 'delete', 'unknown']);
    expect(requestPayload(record())?.eventTime).toBe('2026-01-02T03:04:05');
    expect(requestPayload(record({ timeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678) }))?.eventTime).toBe('2026-01-02T03:04:05.678000');
  });

  it('always measures one storage.api.request, and bytes only when there were some', () => {
    const names = (r: RequestRecord) => (requestPayload(r)?.measurements as Array<{ metric: { name: string } }>).map((m) => m.metric.name);
    expect(names(record())).toEqual(['storage.api.request']);
    expect(names(record({ bytesReceived: 3, bytesSent: 4 }))).toEqual(['storage.api.request', 'storage.objects.incoming.bytes', 'storage.objects.outgoing.bytes']);
    expect(requestPayload(record({ outcome: 'failure' }))?.outcome).toBe('failure');
  });

  it('quotes the path as urllib.parse.quote does (safe "/")', () => {
    expect(pythonQuote('/v1/AUTH_p/my dir/naïve+☃~_.-')).toBe('/v1/AUTH_p/my%20dir/na%C3%AFve%2B%E2%98%83~_.-');
    expect(pythonQuote("a!*'()b")).toBe('a%21%2A%27%28%29b');
  });
});

describe('RequestNotifier', () => {
  it('publishes on the swift exchange, skips the ignored projects, and drains on stop', async () => {
    const bus = new InProcessBus(silentLogger());
    await bus.start();
    const seen: BusDelivery[] = [];
    const handle = await bus.subscribe({ queue: 'q', bindings: [{ exchange: 'swift', routingKey: '#' }], batchSize: 10, batchWaitMs: 1 }, { consume: async (batch) => void seen.push(...batch) });
    const notifications = new RequestNotifier(new Notifier(bus, new ManualClock(0)), ['ignored'], silentLogger());
    await notifications.emit(record({ projectId: 'ignored' }), context);
    await notifications.emit(record(), context);
    await notifications.drain();
    const deadline = Date.now() + 2000;
    while (seen.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.routingKey).toBe('notifications.info');
    const message = JSON.parse(JSON.parse(seen[0]?.body.toString() ?? '{}')['oslo.message'] as string) as Record<string, unknown>;
    expect(message).toMatchObject({ event_type: 'objectstore.http.request', publisher_id: 'ceilometermiddleware', priority: 'INFO' });
    await handle.close();
    await bus.stop();
  });

  it('logs and swallows a failure to publish (the request already succeeded)', async () => {
    const bus = new InProcessBus(silentLogger());
    // Never started: publish rejects.
    const notifications = new RequestNotifier(new Notifier(bus, new ManualClock(0)), [], silentLogger());
    await expect(notifications.emit(record(), context)).resolves.toBeUndefined();
    await notifications.drain();
  });
});
