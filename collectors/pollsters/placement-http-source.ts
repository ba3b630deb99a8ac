import { z } from 'zod';
import { ConfigError, errorMessage, type Clock, type Logger } from '../../core/index.ts';
import { resolveHttpComputeSourceConfig, type HttpComputeSourceOptions } from './config.ts';
import { ComputeSourceError, POLLSTER_ERROR_CODES } from './errors.ts';
import { createTokenCache } from './keystone-token.ts';
import type { PlacementSource } from './placement-source.ts';

/**
 * The microversion the HTTP source asks Placement for: 1.19 is the first where every read
 * it makes has its final shape (aggregates with the provider generation); Placement has
 * served it since Queens, so any deployment we replace has it.
 */
export const PLACEMENT_MICROVERSION = '1.19';

export type HttpPlacementSourceOptions = Omit<HttpComputeSourceOptions, 'adminUrl'> & {
  /** Placement's endpoint, as the catalog lists it: e.g. http://127.0.0.1:8000/placement. */
  placementUrl: string;
  /** Nova's endpoint: e.g. http://127.0.0.1:8000/compute/v2.1 (for os-availability-zone/detail and os-hypervisors/detail). */
  computeUrl: string;
};

export interface HttpPlacementSourceDeps {
  clock: Clock;
  logger: Logger;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

// Unknown fields are ignored (the APIs may grow); what the meters need is checked.
const amount = z.number();
const inventory = z.object({ total: amount, reserved: amount, min_unit: amount, max_unit: amount, step_size: amount, allocation_ratio: amount });
export const providersAnswer = z.object({ resource_providers: z.array(z.object({ uuid: z.string().min(1), name: z.string().min(1) })) });
export const inventoriesAnswer = z.object({ inventories: z.record(z.string(), inventory) });
export const usagesAnswer = z.object({ usages: z.record(z.string(), amount) });
export const aggregatesAnswer = z.object({ aggregates: z.array(z.string()) });
/** Nova's os-availability-zone/detail: zones with their hosts (null for a zone without hosts). */
export const zonesAnswer = z.object({
  availabilityZoneInfo: z.array(z.object({ zoneName: z.string(), hosts: z.record(z.string(), z.unknown()).nullable() })),
});

/** Nova's os-hypervisors/detail (2.1): each compute node's name and the service host it belongs to. */
export const hypervisorsAnswer = z.object({
  hypervisors: z.array(z.object({ hypervisor_hostname: z.string(), service: z.object({ host: z.string() }) })),
});

function endpoint(field: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new ConfigError(`${field} must be an http:// or https:// URL; got ${JSON.stringify(value)}`);
}

/** `{"errors": [{"detail"}]}` (Placement), `{"<fault>": {"message"}}` (Nova), or the start of the text. */
function apiError(body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const placement = (parsed.errors as Array<{ detail?: unknown }> | undefined)?.[0]?.detail;
    if (typeof placement === 'string') return placement;
    const fault = Object.values(parsed)[0] as { message?: unknown } | undefined;
    if (typeof fault?.message === 'string') return fault.message;
  } catch {
    // not JSON: the raw text
  }
  return body.slice(0, 200);
}

/**
 * The services-mode source: Placement's and Nova's public APIs with an admin token (both
 * need the admin role for these reads), refreshed before expiry; a 401 drops the token and
 * retries once, as the compute source does.
 */
export function createHttpPlacementSource(options: HttpPlacementSourceOptions, deps: HttpPlacementSourceDeps): PlacementSource {
  const placementUrl = endpoint('pollsters.placement.placementUrl', options.placementUrl);
  const computeUrl = endpoint('pollsters.placement.computeUrl', options.computeUrl);
  // The token cache reads only the Keystone fields of this config; adminUrl is not used by it.
  const config = resolveHttpComputeSourceConfig({ ...options, adminUrl: placementUrl });
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  const tokens = createTokenCache(config, { clock: deps.clock, fetch: fetchImpl, logger: deps.logger });

  async function read<T>(url: string, headers: Record<string, string>, schema: z.ZodType<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const token = await tokens.get();
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, { headers: { ...headers, 'x-auth-token': token, accept: 'application/json' }, signal: AbortSignal.timeout(config.requestTimeoutMs) });
        text = await response.text();
      } catch (err) {
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.sourceUnavailable, `GET ${url} failed: ${errorMessage(err)}`, { cause: err });
      }
      if (response.status === 401) {
        tokens.invalidate(token);
        if (attempt === 1) continue;
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.authFailed, `GET ${url}: a fresh token was refused too (401 ${apiError(text)})`, { status: 401 });
      }
      if (response.status !== 200) {
        const code = response.status >= 500 ? POLLSTER_ERROR_CODES.sourceUnavailable : POLLSTER_ERROR_CODES.sourceRefused;
        throw new ComputeSourceError(code, `GET ${url}: expected 200, got ${response.status} (${apiError(text)})`, { status: response.status });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.badResponse, `GET ${url}: the answer is not JSON (${errorMessage(err)})`, { status: 200, cause: err });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        throw new ComputeSourceError(POLLSTER_ERROR_CODES.badResponse, `GET ${url}: the answer is not what the API documents: ${issues}`, { status: 200 });
      }
      return parsed.data;
    }
  }

  const placement = <T>(path: string, schema: z.ZodType<T>) => read(`${placementUrl}${path}`, { 'openstack-api-version': `placement ${PLACEMENT_MICROVERSION}` }, schema);
  return {
    providers: async () => (await placement('/resource_providers', providersAnswer)).resource_providers.map(({ uuid, name }) => ({ uuid, name })),
    provider: async (uuid) => {
      const at = `/resource_providers/${encodeURIComponent(uuid)}`;
      const [inventories, usages, aggregates] = await Promise.all([placement(`${at}/inventories`, inventoriesAnswer), placement(`${at}/usages`, usagesAnswer), placement(`${at}/aggregates`, aggregatesAnswer)]);
      return { inventories: inventories.inventories, usages: usages.usages, aggregates: aggregates.aggregates };
    },
    availabilityZones: async () => {
      const [zones, hypervisors] = await Promise.all([read(`${computeUrl}/os-availability-zone/detail`, {}, zonesAnswer), read(`${computeUrl}/os-hypervisors/detail`, {}, hypervisorsAnswer)]);
      const byHost: Record<string, string> = {};
      for (const zone of zones.availabilityZoneInfo) for (const host of Object.keys(zone.hosts ?? {})) byHost[host] = zone.zoneName;
      // A compute node's provider is named after the hypervisor (nodename, often an FQDN), zones list
      // the service host: map each node to its host's zone too.
      for (const hv of hypervisors.hypervisors) {
        const zone = byHost[hv.service.host];
        if (zone !== undefined) byHost[hv.hypervisor_hostname] ??= zone;
      }
      return byHost;
    },
  };
}
