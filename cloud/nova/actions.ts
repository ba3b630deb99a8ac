import { badRequest, conflict } from '../errors.ts';
import type { RequestContext } from '../notifier.ts';
import { POWER_STATE, type NovaService, type Server } from './service.ts';

/** Nova's conflict message when a server is in the wrong state for an action. */
const wrongState = (server: Server, action: string) =>
  conflict(`Cannot '${action}' instance ${server.id} while it is in vm_state ${server.vm_state}${server.task_state ? ` and task_state ${server.task_state}` : ''}`);

/**
 * Server actions (`POST /servers/{id}/action`) with nova-compute's state transitions and
 * the notifications it emits for each: power off/on, reboot, resize with confirm/revert.
 * Each action answers at once (202) and completes in the background, as Nova does.
 */
export class ServerActions {
  constructor(private readonly nova: NovaService) {}

  async run(id: string, body: Record<string, unknown>, context: RequestContext): Promise<void> {
    const server = this.nova.getServer(id, context.isAdmin ? null : context.projectId);
    const [action] = Object.keys(body);
    switch (action) {
      case 'os-stop':
        return this.stop(server, context);
      case 'os-start':
        return this.start(server, context);
      case 'reboot':
        return this.reboot(server, context, String((body.reboot as { type?: string } | null)?.type ?? 'SOFT').toUpperCase());
      case 'resize':
        return this.resize(server, String((body.resize as { flavorRef?: unknown } | null)?.flavorRef ?? ''), context);
      case 'confirmResize':
        return this.confirmResize(server, context);
      case 'revertResize':
        return this.revertResize(server, context);
      default:
        throw badRequest(`There is no such action: ${action ?? '(none)'}`);
    }
  }

  private async stop(server: Server, context: RequestContext): Promise<void> {
    if (server.vm_state !== 'active' || server.task_state) throw wrongState(server, 'stop');
    const flavor = this.nova.flavorOf(server);
    const powering = this.nova.update(server.id, { task_state: 'powering-off' });
    this.nova.later(async () => {
      await this.nova.emit(powering, flavor, 'compute.instance.power_off.start', context);
      const stopped = this.nova.update(server.id, { vm_state: 'stopped', task_state: null, power_state: POWER_STATE.SHUTDOWN });
      await this.nova.emit(stopped, flavor, 'compute.instance.power_off.end', context);
    });
  }

  private async start(server: Server, context: RequestContext): Promise<void> {
    if (server.vm_state !== 'stopped' || server.task_state) throw wrongState(server, 'start');
    const flavor = this.nova.flavorOf(server);
    const powering = this.nova.update(server.id, { task_state: 'powering-on' });
    this.nova.later(async () => {
      await this.nova.emit(powering, flavor, 'compute.instance.power_on.start', context);
      const active = this.nova.update(server.id, { vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING, last_started_at: this.nova.now() });
      await this.nova.emit(active, flavor, 'compute.instance.power_on.end', context);
    });
  }

  private async reboot(server: Server, context: RequestContext, type: string): Promise<void> {
    if (type !== 'SOFT' && type !== 'HARD') throw badRequest(`Invalid input for field/attribute type. Value: ${type}. 'SOFT' or 'HARD' expected`);
    if (!['active', 'stopped'].includes(server.vm_state) || (server.task_state && type === 'SOFT')) throw wrongState(server, 'reboot');
    const flavor = this.nova.flavorOf(server);
    const rebooting = this.nova.update(server.id, { task_state: type === 'HARD' ? 'rebooting_hard' : 'rebooting' });
    this.nova.later(async () => {
      await this.nova.emit(rebooting, flavor, 'compute.instance.reboot.start', context);
      const active = this.nova.update(server.id, { vm_state: 'active', task_state: null, power_state: POWER_STATE.RUNNING, last_started_at: this.nova.now() });
      await this.nova.emit(active, flavor, 'compute.instance.reboot.end', context);
    });
  }

  private async resize(server: Server, flavorRef: string, context: RequestContext): Promise<void> {
    if (!['active', 'stopped'].includes(server.vm_state) || server.task_state) throw wrongState(server, 'resize');
    let target;
    try {
      target = this.nova.getFlavor(flavorRef.split('/').pop() ?? '');
    } catch {
      throw badRequest(`Unable to find flavor ${flavorRef}`);
    }
    if (target.id === server.flavor_id) throw badRequest('When resizing, instances must change flavor!');
    const old = this.nova.flavorOf(server);
    this.nova.quotas.check(server.project_id, { instances: 0, cores: target.vcpus - old.vcpus, ram: target.ram_mb - old.ram_mb });
    const preparing = this.nova.update(server.id, { task_state: 'resize_prep' });
    this.nova.later(async () => {
      await this.nova.emit(preparing, old, 'compute.instance.resize.prep.start', context, 'INFO', { new_instance_type: target.name, new_instance_type_id: target.id });
      const host = this.nova.schedule(target, server.availability_zone, server.id);
      if (!host) {
        const failed = this.nova.update(server.id, { task_state: null });
        await this.nova.emit(failed, old, 'compute.instance.resize.error', context, 'ERROR', { message: 'No valid host was found. There are not enough hosts available.' });
        return;
      }
      this.nova.claim(server, host.name, target);
      await this.nova.emit(preparing, old, 'compute.instance.resize.prep.end', context, 'INFO', { new_instance_type: target.name, new_instance_type_id: target.id });
      const migrating = this.nova.update(server.id, { task_state: 'resize_migrating' });
      await this.nova.emit(migrating, old, 'compute.instance.resize.start', context);
      await this.nova.emit(migrating, old, 'compute.instance.resize.end', context);
      const finishing = this.nova.update(server.id, { task_state: 'resize_finish', host: host.name, flavor_id: target.id, old_flavor_id: server.flavor_id });
      await this.nova.emit(finishing, target, 'compute.instance.finish_resize.start', context);
      const resized = this.nova.update(server.id, { vm_state: 'resized', task_state: null, last_started_at: this.nova.now() });
      await this.nova.emit(resized, target, 'compute.instance.finish_resize.end', context);
    });
  }

  private async confirmResize(server: Server, context: RequestContext): Promise<void> {
    if (server.vm_state !== 'resized') throw wrongState(server, 'confirmResize');
    const flavor = this.nova.flavorOf(server);
    await this.nova.emit(server, flavor, 'compute.instance.resize.confirm.start', context);
    const confirmed = this.nova.update(server.id, { vm_state: 'active', task_state: null, old_flavor_id: null });
    await this.nova.emit(confirmed, flavor, 'compute.instance.resize.confirm.end', context);
  }

  private async revertResize(server: Server, context: RequestContext): Promise<void> {
    if (server.vm_state !== 'resized' || !server.old_flavor_id) throw wrongState(server, 'revertResize');
    const oldFlavor = this.nova.getFlavor(server.old_flavor_id);
    if (server.host) this.nova.claim(server, server.host, oldFlavor);
    await this.nova.emit(server, this.nova.flavorOf(server), 'compute.instance.resize.revert.start', context);
    const reverted = this.nova.update(server.id, { vm_state: 'active', task_state: null, flavor_id: oldFlavor.id, old_flavor_id: null });
    await this.nova.emit(reverted, oldFlavor, 'compute.instance.resize.revert.end', context);
  }
}
