import { isotime } from './notifications.ts';
import type { HeatService } from './service.ts';
import type { ResourceRecord, StackRecord } from './store.ts';

/**
 * The API's JSON for stacks and resources (heat/api/openstack/v1/views/stacks_view.py,
 * resources.py format_resource, heat/engine/api.py format_stack*). A state shows as
 * ACTION_STATUS; links carry the stack owner's project, as Heat's identifiers do.
 */

/** `<api>/v1/<project>/stacks/<name>/<id>`: a stack's canonical URL (HeatIdentifier.url_path). */
export function stackUrl(apiBase: string, stack: Pick<StackRecord, 'project_id' | 'name' | 'id'>): string {
  return `${apiBase}/v1/${encodeURIComponent(stack.project_id)}/stacks/${encodeURIComponent(stack.name)}/${stack.id}`;
}

/** One entry of GET /stacks (format_stack_db_object, basic keys). */
export function stackSummary(apiBase: string, stack: StackRecord, includeProject: boolean): Record<string, unknown> {
  return {
    id: stack.id,
    links: [{ href: stackUrl(apiBase, stack), rel: 'self' }],
    ...(includeProject ? { project: stack.project_id } : {}),
    stack_name: stack.name,
    description: '',
    stack_status: `${stack.action}_${stack.status}`,
    stack_status_reason: stack.status_reason,
    creation_time: isotime(stack.created_at),
    updated_time: isotime(stack.updated_at),
    deletion_time: isotime(stack.deleted_at),
    stack_owner: stack.username,
    parent: null,
    stack_user_project_id: null,
    tags: stack.tags && stack.tags.length > 0 ? stack.tags : null,
  };
}

/** GET /stacks/{name}/{id} (format_stack): outputs are left out once the stack is DELETE_COMPLETE. */
export function stackDetail(apiBase: string, stack: StackRecord, heat: HeatService): Record<string, unknown> {
  const description = heat.description(stack);
  const deleted = stack.action === 'DELETE' && stack.status === 'COMPLETE';
  return {
    id: stack.id,
    links: [{ href: stackUrl(apiBase, stack), rel: 'self' }],
    stack_name: stack.name,
    description,
    template_description: description,
    stack_status: `${stack.action}_${stack.status}`,
    stack_status_reason: stack.status_reason,
    creation_time: isotime(stack.created_at),
    updated_time: isotime(stack.updated_at),
    deletion_time: isotime(stack.deleted_at),
    notification_topics: [],
    parameters: heat.parameters(stack),
    capabilities: [],
    disable_rollback: true,
    timeout_mins: stack.timeout_mins,
    stack_owner: stack.username,
    parent: null,
    stack_user_project_id: null,
    tags: stack.tags ?? [],
    ...(deleted ? {} : { outputs: heat.outputs(stack) }),
  };
}

/** One resource (format_resource): `required_by` is derived from the other resources' dependencies. */
export function resourceView(apiBase: string, stack: StackRecord, resource: ResourceRecord, all: readonly ResourceRecord[], detail: boolean): Record<string, unknown> {
  const base = stackUrl(apiBase, stack);
  return {
    resource_name: resource.name,
    logical_resource_id: resource.name,
    physical_resource_id: resource.physical_resource_id ?? '',
    resource_type: resource.type,
    resource_status: `${resource.action}_${resource.status}`,
    resource_status_reason: resource.status_reason,
    creation_time: isotime(resource.created_at),
    updated_time: isotime(resource.updated_at ?? resource.created_at),
    required_by: all.filter((other) => other.requires.includes(resource.name)).map((other) => other.name),
    links: [
      { href: `${base}/resources/${encodeURIComponent(resource.name)}`, rel: 'self' },
      { href: base, rel: 'stack' },
    ],
    ...(detail ? { description: '', attributes: resource.attributes } : {}),
  };
}
