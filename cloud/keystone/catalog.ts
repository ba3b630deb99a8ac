import { deriveId } from '../../core/index.ts';

/**
 * The services the catalog lists, with devstack-style path prefixes on the one API
 * server. `{project_id}` in a path is filled per token, as Cinder's URLs carry it.
 */
export const CATALOG_SERVICES: ReadonlyArray<{ type: string; name: string; path: string }> = [
  { type: 'identity', name: 'keystone', path: '/identity' },
  { type: 'compute', name: 'nova', path: '/compute/v2.1' },
  { type: 'image', name: 'glance', path: '/image' },
  { type: 'placement', name: 'placement', path: '/placement' },
  { type: 'network', name: 'neutron', path: '/network' },
  { type: 'orchestration', name: 'heat', path: '/heat-api/v1/{project_id}' },
  { type: 'volumev3', name: 'cinderv3', path: '/volume/v3/{project_id}' },
  { type: 'block-storage', name: 'cinder', path: '/volume/v3/{project_id}' },
  { type: 'object-store', name: 'swift', path: '/object-storage/v1/AUTH_{project_id}' },
  { type: 'metric', name: 'gnocchi', path: '/metric' },
  { type: 'rating', name: 'cloudkitty', path: '/rating' },
  { type: 'alarming', name: 'aodh', path: '/alarming' },
  // Cumulus's own capacity planning API (no OpenStack counterpart).
  { type: 'capacity', name: 'cumulus-capacity', path: '/capacity' },
];

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{ id: string; interface: string; region: string; region_id: string; url: string }>;
}

export function buildCatalog(publicUrl: string, region: string, projectId: string | null): CatalogEntry[] {
  const base = publicUrl.replace(/\/+$/, '');
  return CATALOG_SERVICES.map((service) => ({
    id: deriveId('service', service.type),
    type: service.type,
    name: service.name,
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({
      id: deriveId('endpoint', service.type, iface),
      interface: iface,
      region,
      region_id: region,
      url: base + service.path.replace('{project_id}', projectId ?? ''),
    })),
  }));
}
