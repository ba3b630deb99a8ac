import type { NotificationPriority } from '../notifier.ts';
import { NOTIFICATION_SERVICE } from './config.ts';
import type { StackRecord, StackStatus } from './store.ts';

/** Heat's time format in payloads and API bodies (heat/common/timeutils.py isotime): seconds, `Z`. */
export function isotime(iso: string | null): string | null {
  return iso ? `${iso.slice(0, 19)}Z` : null;
}

/**
 * The event a stack state change emits (heat/engine/notification/stack.py send):
 * `orchestration.stack.<action>.start|end|error`, ERROR priority for a failure.
 * Ceilometer's meters read `orchestration.stack.{create,update,delete}.end`.
 */
export function stackEvent(action: string, status: StackStatus): { eventType: string; priority: NotificationPriority } {
  const suffix = status === 'IN_PROGRESS' ? 'start' : status === 'COMPLETE' ? 'end' : 'error';
  return { eventType: `${NOTIFICATION_SERVICE}.stack.${action.toLowerCase()}.${suffix}`, priority: status === 'FAILED' ? 'ERROR' : 'INFO' };
}

/**
 * heat/engine/api.py format_notification_body. `user_id` carries the user *name*, as
 * Heat's deprecated key does; the id is `user_identity`. Tenant and user are the stack's
 * owner, so every event of one stack is attributed to the project that pays for it.
 */
export function stackPayload(stack: StackRecord, description: string): Record<string, unknown> {
  return {
    tenant_id: stack.project_id,
    user_id: stack.username,
    user_identity: stack.user_id,
    username: stack.username,
    stack_identity: stack.id,
    stack_name: stack.name,
    state: `${stack.action}_${stack.status}`,
    state_reason: stack.status_reason,
    create_at: isotime(stack.created_at),
    description,
    updated_at: isotime(stack.updated_at),
    tags: stack.tags ?? [],
  };
}
