import { describe, expect, it } from 'vitest';
import { BUILTIN_AUDIT_MAPS, auditAction, builtinAuditMap, targetResourceId, targetTypeURI, type AuditMap } from './audit-map.ts';

const nova = builtinAuditMap('compute');
const TENANT = '3f1c0b6e9d2a4c58b7e6a1d0c9f8e7b6';
const SERVER = '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c';

/** Cases from keystonemiddleware's tests/unit/audit/test_audit_api.py, on the nova map. */
describe('keystonemiddleware actions', () => {
  it.each([
    ['GET', `/v2/${TENANT}/servers`, undefined, 'read/list'],
    ['GET', `/v2/${TENANT}/servers/${SERVER}`, undefined, 'read'],
    ['GET', `/v2/${TENANT}/servers/detail`, undefined, 'read/list'],
    ['GET', `/v2/${TENANT}/servers/`, undefined, 'read/list'],
    ['GET', `/v2/${TENANT}/servers.json`, undefined, 'read/list'],
    ['PUT', `/v2/${TENANT}/servers`, undefined, 'update'],
    ['PATCH', `/v2/${TENANT}/servers/${SERVER}`, undefined, 'update'],
    ['DELETE', `/v2/${TENANT}/servers`, undefined, 'delete'],
    ['HEAD', `/v2/${TENANT}/servers`, undefined, 'read'],
    ['OPTIONS', `/v2/${TENANT}/servers`, undefined, 'unknown'],
    ['POST', `/v2/${TENANT}/servers/${SERVER}`, undefined, 'update'],
    ['POST', `/v2/${TENANT}/servers`, { server: {} }, 'create'],
    ['POST', `/v2/${TENANT}/servers/action`, { createImage: { name: 'new-image' } }, 'update/createImage'],
    ['POST', `/v2/${TENANT}/servers/${SERVER}/action`, { 'os-stop': null }, 'update/os-stop'],
    ['POST', `/v2/${TENANT}/servers/action`, undefined, 'create'],
    ['POST', `/v2/${TENANT}/servers/action`, {}, 'create'],
    ['POST', `/v2/${TENANT}/servers/action`, ['not', 'an', 'object'], 'create'],
    ['GET', `/v2/${TENANT}/os-hosts/${SERVER}/reboot`, undefined, 'start/reboot'],
    ['GET', `/v2/${TENANT}/os-migrations`, undefined, 'read'],
    ['POST', `/v2/${TENANT}/os-migrations`, undefined, 'create'],
    ['POST', `/v2/${TENANT}/os-server-password`, undefined, 'update'],
  ])('%s %s -> %s', (method, path, body, action) => {
    expect(auditAction(method, path, body, nova)).toBe(action);
  });
});

describe('keystonemiddleware target typeURIs', () => {
  it.each([
    [`/v2/${TENANT}/servers`, 'service/compute/servers'],
    [`/v2/${TENANT}/servers/${SERVER}`, 'service/compute/servers/server'],
    [`/v2/${TENANT}/servers/action`, 'service/compute/servers/action'],
    [`/v2.1/servers/${SERVER}/action`, 'service/compute/servers/server/action'],
    [`/v2/${TENANT}/os-hosts/${SERVER}/reboot`, 'service/compute/os-hosts/host/reboot'],
    [`/v2/${TENANT}/os-migrations`, 'service/compute/os-migrations'],
    ['/v2.1/servers/detail', 'service/compute/servers/detail'],
    [`/v2.1/flavors/m1.small/os-extra_specs/hw:cpu_policy`, 'service/compute/flavors/flavor/os-extra_specs/key'],
    // keystonemiddleware prints the .conf file's `None` as is.
    ['/v2.1/os-services/abc', 'service/compute/os-services/None'],
    ['/', 'service/compute'],
  ])('%s -> %s', (path, typeURI) => {
    expect(targetTypeURI(path, nova)).toBe(typeURI);
  });

  it('types other services by their pycadf maps', () => {
    expect(targetTypeURI(`/v2/images/${SERVER}/file`, builtinAuditMap('image'))).toBe('service/storage/image/images/image/file');
    expect(targetTypeURI(`/v3/${TENANT}/volumes/${SERVER}`, builtinAuditMap('volume'))).toBe('service/storage/block/volumes/volume');
    expect(targetTypeURI(`/v2.0/ports/${SERVER}`, builtinAuditMap('network'))).toBe('service/network/ports/port');
    expect(targetTypeURI(`/v1/metric/${SERVER}/measures`, builtinAuditMap('metric'))).toBe('service/metric/metric/metric_id/measures');
    expect(auditAction('PUT', `/v2.0/routers/${SERVER}/add_router_interface`, undefined, builtinAuditMap('network'))).toBe('update/add');
    expect(auditAction('GET', `/v3/${TENANT}/qos-specs/${SERVER}/associations`, undefined, builtinAuditMap('volume'))).toBe('read/list/associations');
  });

  it('leaves a service without a map as `unknown`, as keystonemiddleware does without a [service_endpoints] entry', () => {
    expect(targetTypeURI('/v3/things/1', builtinAuditMap('no-such-service'))).toBe('unknown');
    expect(builtinAuditMap('constructor').serviceTypeURI).toBe('unknown');
  });

  it('reads only own keys of a map: a path segment named like an Object.prototype member is not a keyword', () => {
    expect(auditAction('GET', '/v2.1/constructor', undefined, nova)).toBe('read');
    expect(auditAction('GET', '/v2.1/servers/toString', undefined, nova)).toBe('read');
    expect(targetTypeURI('/v2.1/__proto__/x', nova)).toBe('service/compute');
  });

  it('accepts a custom map, like audit_map_file', () => {
    const map: AuditMap = { serviceTypeURI: 'service/custom', pathKeywords: { widgets: 'widget' }, customActions: { spin: 'update/spin' } };
    expect(targetTypeURI('/v1/widgets/7/spin', map)).toBe('service/custom/widgets/widget');
    expect(auditAction('POST', '/v1/widgets/7/spin', undefined, map)).toBe('update/spin');
    expect(targetResourceId('/v1/widgets/7/spin', map)).toBe('7');
  });
});

describe('target resource ids', () => {
  it('is the innermost resource the path names', () => {
    expect(targetResourceId(`/v2.1/servers/${SERVER}`, nova)).toBe(SERVER);
    expect(targetResourceId(`/v2.1/servers/${SERVER}/action`, nova)).toBe(SERVER);
    expect(targetResourceId(`/v2.1/flavors/42/os-extra_specs/hw%3Acpu_policy`, nova)).toBe('hw:cpu_policy');
    expect(targetResourceId(`/v3/${TENANT}/volumes/${SERVER}`, builtinAuditMap('volume'))).toBe(SERVER);
  });

  it('is undefined for collections and service paths', () => {
    for (const path of ['/v2.1/servers', '/v2.1/servers/', '/v2.1/servers/detail', '/v2.1', '/']) expect(targetResourceId(path, nova)).toBeUndefined();
  });

  it('has a built-in map for the services the control plane will serve', () => {
    expect(Object.keys(BUILTIN_AUDIT_MAPS).sort()).toEqual(['block-storage', 'compute', 'image', 'metric', 'network', 'placement', 'volume', 'volumev3']);
  });
});
