import type { Notifier, RequestContext } from '../notifier.ts';
import { isObject } from './input.ts';

export const NEUTRON_EXCHANGE = 'neutron';

/**
 * The notifications Neutron's API notifier hook sends (neutron/pecan_wsgi/hooks/notifier.py)
 * for POST/PUT/DELETE on a resource, all INFO from publisher `network.<host>`:
 * `<resource>.create.start` with the request body, `.create.end` with `{<resource>: view}`,
 * `.update.start` with the body plus `id`, `.update.end` with the view, `.delete.start`
 * with `{<resource>_id}`, `.delete.end` with `{<resource>_id, <resource>: view}`.
 * Ceilometer reads `$.payload.<resource>.id` and `.tenant_id` from the `.end` events.
 *
 * Order: `.start` goes out before the request is checked (as the hook does, so a refused
 * request leaves a lone `.start`); `.end` only after the change committed, so no
 * notification describes a change that was rolled back.
 */
export class NeutronEvents {
  constructor(
    private readonly notifier: Notifier,
    private readonly host: string,
  ) {}

  async emit(eventType: string, payload: Record<string, unknown>, context: RequestContext): Promise<void> {
    await this.notifier.notify({ exchange: NEUTRON_EXCHANGE, publisherId: `network.${this.host}`, eventType, priority: 'INFO', payload, context });
  }

  /** The hook skips `.start` when the body is not a non-empty JSON object. */
  async createStart(resource: string, body: unknown, context: RequestContext): Promise<void> {
    if (isObject(body) && Object.keys(body).length > 0) await this.emit(`${resource}.create.start`, { ...body }, context);
  }

  async createEnd(resource: string, view: Record<string, unknown>, context: RequestContext): Promise<void> {
    await this.emit(`${resource}.create.end`, { [resource]: view }, context);
  }

  async updateStart(resource: string, id: string, body: unknown, context: RequestContext): Promise<void> {
    if (isObject(body) && Object.keys(body).length > 0) await this.emit(`${resource}.update.start`, { ...body, id }, context);
  }

  async updateEnd(resource: string, view: Record<string, unknown>, context: RequestContext): Promise<void> {
    await this.emit(`${resource}.update.end`, { [resource]: view }, context);
  }

  async deleteStart(resource: string, id: string, context: RequestContext): Promise<void> {
    await this.emit(`${resource}.delete.start`, { [`${resource}_id`]: id }, context);
  }

  /** Neutron builds this payload as `{<resource>: original}` and then adds `<resource>_id`. */
  async deleteEnd(resource: string, id: string, view: Record<string, unknown>, context: RequestContext): Promise<void> {
    await this.emit(`${resource}.delete.end`, { [resource]: view, [`${resource}_id`]: id }, context);
  }
}
