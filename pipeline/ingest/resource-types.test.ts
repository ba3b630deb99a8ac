import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { attributesFromMetadata, ceilometerArchivePolicyFor, listedMeters, resourceEventFor, resourceEventRules, resourceTypeFor } from './resource-types.ts';

const CEILOMETER = '/usr/lib/python3/dist-packages/ceilometer';
const FILE = `${CEILOMETER}/publisher/data/gnocchi_resources.yaml`;

interface FileResource {
  resource_type: string;
  metrics: Record<string, { archive_policy_name?: string } | null> | string[];
  attributes?: Record<string, string>;
  event_create?: string | string[];
  event_update?: string | string[];
  event_delete?: string | string[];
  event_attributes?: Record<string, string>;
  event_associated_resources?: Record<string, string>;
}

const file = parse(readFileSync(FILE, 'utf8')) as { resources: FileResource[] };
const metricsOf = (r: FileResource) => (Array.isArray(r.metrics) ? Object.fromEntries(r.metrics.map((m) => [m, null])) : r.metrics);
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `resource_metadata.(instance_flavor_id|(flavor.id)|flavor_id)` -> [['instance_flavor_id'], ['flavor','id'], ['flavor_id']]. */
function pathsOf(expression: string): string[][] {
  const body = expression.replace(/^resource_metadata\./, '');
  const alternatives = body.startsWith('(') && body.endsWith(')') ? body.slice(1, -1).split('|') : [body];
  return alternatives.map((a) => a.replace(/^\(|\)$/g, '').split('.'));
}

/** Ceilometer's own gnocchi publisher definitions, run on the same inputs. */
const PEER = `
import json, sys, yaml
from stevedore import extension
from ceilometer.publisher import gnocchi
from ceilometer import sample as sample_mod
req = json.load(sys.stdin)
plugins = extension.ExtensionManager(namespace='ceilometer.event.trait_plugin')
data = yaml.safe_load(open('${FILE}'))
rds = [gnocchi.ResourcesDefinition(r, 'ceilometer-low', None, plugins) for r in data['resources']]
by_metric = dict((m, rd) for rd in rds for m in rd.metrics)
out = {'samples': [], 'events': []}
for c in req['samples']:
    rd = by_metric.get(c['metric'])
    s = sample_mod.Sample(name=c['metric'], type='gauge', unit='u', volume=1, user_id='u', project_id='p', resource_id='r', timestamp='2024-01-01T00:00:00', resource_metadata=c['metadata'])
    out['samples'].append({'type': rd.cfg['resource_type'], 'attributes': rd.sample_attributes(s)} if rd else None)
for event_type in req['events']:
    found = None
    for rd in rds:
        op = rd.event_match(event_type)
        if op:
            found = {'type': rd.cfg['resource_type'], 'operation': op}
            break
    out['events'].append(found)
print(json.dumps(out))
`;

describe("meter to resource mapping (Ceilometer's gnocchi_resources.yaml)", () => {
  it('files every meter of the file under its type, and nothing else', () => {
    const expected = file.resources.flatMap((r) => Object.keys(metricsOf(r)).map((m) => [m, r.resource_type] as const));
    expect(new Map(listedMeters())).toEqual(new Map(expected));
    for (const [metric, type] of expected) expect(resourceTypeFor(metric).type).toBe(type);
    expect(resourceTypeFor('no.such.meter').type).toBe('generic');
    // Family fallbacks for meters the file does not list.
    expect(resourceTypeFor('disk.device.read.bytes.rate').type).toBe('instance_disk');
  });

  it('reads each attribute from the same metadata paths, in the same order', () => {
    for (const r of file.resources) {
      const sources = Object.fromEntries(Object.entries(r.attributes ?? {}).map(([a, e]) => [a, pathsOf(e)]));
      for (const metric of Object.keys(metricsOf(r))) expect(resourceTypeFor(metric).sources).toEqual(sources);
    }
  });

  it("names the same archive policies for the file's rate meters", () => {
    for (const r of file.resources) {
      for (const [metric, extra] of Object.entries(metricsOf(r))) expect(ceilometerArchivePolicyFor(metric)).toBe(extra?.archive_policy_name);
    }
  });

  it('has the same event rules: create, update and delete patterns, attributes, associated resources', () => {
    const expected = file.resources
      .filter((r) => r.event_create !== undefined || r.event_update !== undefined || r.event_delete !== undefined)
      .map((r) => ({
        type: r.resource_type,
        create: list(r.event_create),
        update: list(r.event_update),
        delete: list(r.event_delete),
        attributes: r.event_attributes ?? {},
        associated: Object.fromEntries(Object.entries(r.event_associated_resources ?? {}).map(([type, query]) => [type, Object.keys((JSON.parse(query) as Record<string, Record<string, string>>)['='] ?? {})[0]])),
      }));
    expect(resourceEventRules()).toEqual(expected);
  });

  it('extracts attributes and matches events exactly as Ceilometer 19 does', () => {
    const samples = [
      { metric: 'cpu', metadata: { instance_host: 'c1', host: 'hashed', display_name: 'vm', flavor: { id: 'f1', name: 'small' }, instance_type: 'm1.small', image_ref: 'img', user_metadata: { server_group: 'sg' }, launched_at: '2024-01-01T00:00:00' } },
      { metric: 'memory.usage', metadata: { host: 'only-host', flavor_id: 'flat', flavor_name: 'flat-name', display_name: null } },
      { metric: 'vcpus', metadata: { instance_flavor_id: 'inst', flavor: { id: 'nested' }, flavor_id: 'flat', user_metadata: {} } },
      { metric: 'volume.size', metadata: { name: 'fallback-name', volume_type: 'ssd', instance_id: 'i-1' } },
      { metric: 'volume.size', metadata: { display_name: 'dn', name: 'n' } },
      { metric: 'disk.device.read.bytes', metadata: { disk_name: 'vda', instance_id: 'x' } },
      { metric: 'network.incoming.bytes', metadata: { vnic_name: 'tap0' } },
      { metric: 'switch.port.receive.bytes', metadata: { switch: 's1', port_number_on_switch: 3, controller: 'odl', neutron_port_id: null } },
      { metric: 'compute.node.cpu.percent', metadata: { host: 'compute-3' } },
      { metric: 'image.size', metadata: { name: 'cirros', container_format: 'bare', disk_format: 'qcow2', size: 1 } },
      { metric: 'hardware.ipmi.power', metadata: { node: 'n1' } },
      { metric: 'identity.authenticate.success', metadata: { anything: 1 } },
    ];
    const events = [
      'compute.instance.create.end', 'compute.instance.delete.start', 'compute.instance.delete.end', 'compute.instance.update',
      'image.delete', 'image.update', 'floatingip.delete.end', 'volume.delete.end', 'snapshot.delete.end', 'volume.transfer.accept.end',
      'snapshot.transfer.accept.end', 'volume.create.end', 'identity.project.deleted',
    ];
    const run = spawnSync('/usr/bin/python3', ['-c', PEER], { input: JSON.stringify({ samples, events }), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONWARNINGS: 'ignore' } });
    if (run.status !== 0) throw new Error(`Ceilometer peer failed: ${run.error?.message ?? run.stderr.slice(-3000)}`);
    const peer = JSON.parse(run.stdout) as { samples: Array<{ type: string; attributes: Record<string, unknown> }>; events: Array<{ type: string; operation: string } | null> };
    samples.forEach((c, i) => {
      const mapping = resourceTypeFor(c.metric);
      expect({ metric: c.metric, type: mapping.type, attributes: attributesFromMetadata(mapping, c.metadata) }).toEqual({ metric: c.metric, ...peer.samples[i] });
    });
    events.forEach((eventType, i) => {
      const ours = resourceEventFor(eventType);
      expect({ eventType, match: ours ? { type: ours.rule.type, operation: ours.operation } : null }).toEqual({ eventType, match: peer.events[i] });
    });
  });
});
