import { randomUUID } from 'node:crypto';
import type { Bus, Clock } from '../core/index.ts';

/** The request context oslo.messaging flattens into `_context_*` keys of a notification. */
export interface RequestContext {
  requestId: string;
  userId: string | null;
  userName: string | null;
  projectId: string | null;
  projectName: string | null;
  domainId: string | null;
  roles: readonly string[];
  isAdmin: boolean;
  remoteAddress: string | null;
}

export type NotificationPriority = 'INFO' | 'WARN' | 'ERROR' | 'AUDIT' | 'CRITICAL' | 'DEBUG' | 'SAMPLE';

/** oslo's timestamp format: `str(datetime.utcnow())`, naive UTC with microseconds. */
export function osloTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000`;
}

/**
 * Publishes notifications exactly as oslo.messaging's messagingv2 driver does: the
 * message wrapped in the v2 envelope, sent to the service's control exchange with
 * routing key `notifications.<priority lowercased>`.
 */
export class Notifier {
  constructor(
    private readonly bus: Bus,
    private readonly clock: Clock,
  ) {}

  async notify(options: {
    exchange: string;
    publisherId: string;
    eventType: string;
    priority: NotificationPriority;
    payload: Record<string, unknown>;
    context: RequestContext;
  }): Promise<string> {
    const messageId = randomUUID();
    const { context } = options;
    const message = {
      message_id: messageId,
      publisher_id: options.publisherId,
      event_type: options.eventType,
      priority: options.priority,
      payload: options.payload,
      timestamp: osloTimestamp(this.clock.now()),
      _unique_id: randomUUID().replace(/-/g, ''),
      _context_request_id: context.requestId,
      _context_global_request_id: null,
      _context_user: context.userId,
      _context_user_id: context.userId,
      _context_user_name: context.userName,
      _context_tenant: context.projectId,
      _context_project_id: context.projectId,
      _context_project_name: context.projectName,
      _context_domain: null,
      _context_user_domain: context.domainId,
      _context_project_domain: context.domainId,
      _context_roles: [...context.roles],
      _context_is_admin: context.isAdmin,
      _context_read_only: false,
      _context_show_deleted: false,
      _context_remote_address: context.remoteAddress,
      _context_timestamp: this.clock.now().toISOString().replace('Z', ''),
    };
    const body = Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) }));
    await this.bus.publish({ exchange: options.exchange, routingKey: `notifications.${options.priority.toLowerCase()}`, body });
    return messageId;
  }
}
