import type { RequestContext } from '../notifier.ts';
import { httpBadRequest } from './errors.ts';

/**
 * Neutron's default policy, the parts we enforce: admins see and change everything;
 * a project sees its own objects plus shared and external networks (and their subnets),
 * and changes only its own. An object a caller may not see is reported as not found,
 * so existence does not leak.
 */

export function owns(context: RequestContext, projectId: string): boolean {
  return context.isAdmin || (context.projectId !== null && context.projectId === projectId);
}

export function canSeeNetwork(context: RequestContext, network: { project_id: string; shared: boolean; router_external: boolean }): boolean {
  return owns(context, network.project_id) || network.shared || network.router_external;
}

/**
 * The project a new object belongs to: the caller's, or for an admin the one the body
 * names (`project_id`/`tenant_id`).
 */
export function ownerFor(context: RequestContext, requested: string | undefined): string {
  if (requested !== undefined && requested !== context.projectId) {
    if (!context.isAdmin) throw httpBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
    return requested;
  }
  if (!context.projectId) throw httpBadRequest("'project_id' must be given when the token is not scoped to a project");
  return context.projectId;
}
