import { randomUUID } from 'node:crypto';
import { CumulusError, errorMessage, type Clock, type Logger } from '../../core/index.ts';
import { CloudApiError } from '../errors.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { HEAT_EXCHANGE, METERING_STACK_KEY, NOTIFICATION_SERVICE, type HeatSettings } from './config.ts';
import { actionInProgress, badRequest, HeatError, requestLimitExceeded, resourceNotFound, stackExists, stackInvalid, stackNotFound } from './errors.ts';
import { UNRESOLVED, resolveFunctions, type FunctionScope } from './functions.ts';
import { stackEvent, stackPayload } from './notifications.ts';
import type { ResourceCreator } from './resource-types.ts';
import { liveStackByName, liveStackCount, stackById, stacksOf, type ResourceRecord, type StackAction, type StackRecord, type StackStore } from './store.ts';
import { creationOrder, parameterStrings, parseTemplate, resolveParameters, type ResourceDefinition, type Template } from './template.ts';

/** What POST /stacks asks for, parsed from the request body. */
export interface StackCreateInput {
  stackName: string;
  template: unknown;
  parameters: Record<string, unknown>;
  parameterDefaults: Record<string, unknown>;
  tags: string[] | null;
  timeoutMins: number | null;
}

/** What PUT (patch false) or PATCH (patch true) /stacks/{name}/{id} asks for. */
export interface StackUpdateInput {
  patch: boolean;
  /** Undefined: keep the stack's template (PATCH only). */
  template: unknown;
  parameters: Record<string, unknown>;
  parameterDefaults: Record<string, unknown>;
  /** Parameters a PATCH drops, so they fall back to their defaults. */
  clearParameters: string[];
  /** Undefined: keep the stack's tags. */
  tags: string[] | null | undefined;
  timeoutMins: number | null | undefined;
}

export interface StackListFilter {
  /** All projects (admins only; the routes refuse others). */
  globalTenant: boolean;
  showDeleted: boolean;
  ids: string[];
  names: string[];
  /** `CREATE_COMPLETE` or just `COMPLETE`. */
  statuses: string[];
  actions: string[];
  tags: string[];
  tagsAny: string[];
  notTags: string[];
  notTagsAny: string[];
  sortKeys: Array<'name' | 'status' | 'created_at' | 'updated_at'>;
  sortDir: 'asc' | 'desc';
  limit: number | null;
  marker: string | null;
}

export interface StackOutput {
  output_key: string;
  description: string;
  output_value: unknown;
  output_error?: string;
}

/** A resource failed: `reason` is Heat's `<ErrorType>: resources.<name>: <message>`. */
class ResourceFailure extends Error {
  constructor(
    readonly action: StackAction,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ResourceFailure';
  }
}

class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Timeout';
  }
}

/** How heatclient / novaclient name an HTTP refusal from another service in a failure reason. */
const CLIENT_ERRORS: Readonly<Record<number, string>> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 413: 'OverLimit' };

function failureReason(err: unknown, where: string): string {
  if (err instanceof ResourceFailure) return err.reason;
  if (err instanceof HeatError) return `${err.heatType}: ${where}: ${err.message}`;
  if (err instanceof CloudApiError) return `${CLIENT_ERRORS[err.httpStatus] ?? 'ClientException'}: ${where}: ${err.message} (HTTP ${err.httpStatus})`;
  return `${err instanceof Error ? err.name : 'Error'}: ${where}: ${errorMessage(err)}`;
}

const isNotFound = (err: unknown): boolean => err instanceof CumulusError && err.httpStatus === 404;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STACK_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$/;
const ACTIONS = new Set(['INIT', 'CREATE', 'UPDATE', 'DELETE']);

/** heat/common/short_id.py: 12 base32 characters from the 60 random bits of a v4 UUID's time field. */
export function shortId(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  const time = (BigInt(`0x${hex.slice(13, 16)}`) << 48n) | (BigInt(`0x${hex.slice(8, 12)}`) << 32n) | BigInt(`0x${hex.slice(0, 8)}`);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let id = '';
  for (let i = 0; i < 12; i++) id += alphabet[Number((time >> BigInt(55 - 5 * i)) & 31n)];
  return id;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Heat's engine for the embedded control plane: stacks of resources built from HOT
 * templates, their state machine (ACTION_STATUS), and the `orchestration.stack.*`
 * notifications heat-engine emits on every stack state change.
 *
 * Work on a stack runs in the background, one operation at a time per stack, as
 * heat-engine's stack lock allows; a delete cancels a create or update under way.
 */
export class HeatService {
  private readonly operations = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(
    private readonly store: StackStore,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly settings: HeatSettings,
    private readonly types: ReadonlyMap<string, ResourceCreator>,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  /** The project whose stacks a caller sees by id: any for admins (null), else their own. */
  private visible(context: RequestContext): string | null {
    return context.isAdmin ? null : context.projectId;
  }

  // ---------------------------------------------------------------- reads

  /** GET /stacks/{name}/{id}: deleted stacks still show (DELETE_COMPLETE), as in Heat. */
  getStack(name: string, id: string, context: RequestContext, showDeleted = true): StackRecord {
    const stack = this.store.stack(stackById(id, this.visible(context), showDeleted));
    if (!stack || stack.name !== name) throw stackNotFound(name);
    return stack;
  }

  /** The stack a bare name or id designates (for the redirects): a live stack by name in the caller's project, or any visible stack by id. */
  identify(nameOrId: string, context: RequestContext): StackRecord {
    const byId = UUID.test(nameOrId) ? this.store.stack(stackById(nameOrId, this.visible(context), true)) : undefined;
    const stack = byId ?? (context.projectId ? this.store.stack(liveStackByName(nameOrId, context.projectId)) : undefined);
    if (!stack) throw stackNotFound(nameOrId);
    return stack;
  }

  listStacks(filter: StackListFilter, context: RequestContext): { stacks: StackRecord[]; count: number } {
    const projectId = filter.globalTenant && context.isAdmin ? null : context.projectId;
    const has = (tags: string[] | null, tag: string) => (tags ?? []).includes(tag);
    const statusMatches = (stack: StackRecord) =>
      filter.statuses.some((wanted) => {
        const cut = wanted.indexOf('_');
        const action = cut > 0 ? wanted.slice(0, cut) : '';
        return ACTIONS.has(action) ? `${stack.action}_${stack.status}` === wanted : stack.status === wanted;
      });
    const matching = this.store.stacks(stacksOf(projectId, filter.showDeleted)).filter(
      (s) =>
        (filter.ids.length === 0 || filter.ids.includes(s.id)) &&
        (filter.names.length === 0 || filter.names.includes(s.name)) &&
        (filter.actions.length === 0 || filter.actions.includes(s.action)) &&
        (filter.statuses.length === 0 || statusMatches(s)) &&
        filter.tags.every((t) => has(s.tags, t)) &&
        (filter.tagsAny.length === 0 || filter.tagsAny.some((t) => has(s.tags, t))) &&
        (filter.notTags.length === 0 || !filter.notTags.every((t) => has(s.tags, t))) &&
        !filter.notTagsAny.some((t) => has(s.tags, t)),
    );
    const keys = filter.sortKeys.length > 0 ? filter.sortKeys : (['created_at'] as const);
    const direction = filter.sortDir === 'asc' ? 1 : -1;
    matching.sort((a, b) => {
      for (const key of keys) {
        const order = String(a[key] ?? '').localeCompare(String(b[key] ?? ''));
        if (order !== 0) return order * direction;
      }
      return a.id.localeCompare(b.id);
    });
    let page = matching;
    if (filter.marker !== null) {
      const at = matching.findIndex((s) => s.id === filter.marker);
      if (at < 0) throw badRequest(`The marker ${filter.marker} could not be found.`);
      page = matching.slice(at + 1);
    }
    if (filter.limit !== null) page = page.slice(0, filter.limit);
    return { stacks: page, count: matching.length };
  }

  resources(stack: StackRecord): ResourceRecord[] {
    return this.store.resources(stack.id);
  }

  resource(stack: StackRecord, name: string): ResourceRecord {
    const found = this.store.resources(stack.id).find((r) => r.name === name);
    if (!found) throw resourceNotFound(name);
    return found;
  }

  /** The template's description, or Heat's default for a template without one. */
  description(stack: StackRecord): string {
    return typeof stack.template.description === 'string' ? stack.template.description : 'No description';
  }

  /** The stack's parameters as Heat shows them (text, pseudo parameters included). */
  parameters(stack: StackRecord): Record<string, string> {
    const template = parseTemplate(stack.template);
    return parameterStrings(template, this.parameterValues(stack, template));
  }

  /** The outputs, resolved against the resources as they are now. */
  outputs(stack: StackRecord): StackOutput[] {
    const template = parseTemplate(stack.template);
    const scope = this.scope(this.parameterValues(stack, template), this.rowsByName(stack.id));
    return Object.entries(template.outputs).map(([key, output]) => {
      try {
        return { output_key: key, description: output.description, output_value: resolveFunctions(output.value, scope, `outputs.${key}.value`) };
      } catch (err) {
        return { output_key: key, description: output.description, output_value: null, output_error: errorMessage(err) };
      }
    });
  }

  private parameterValues(stack: StackRecord, template: Template): Record<string, unknown> {
    return resolveParameters(template, stack.parameters, stack.parameter_defaults, { id: stack.id, name: stack.name, projectId: stack.project_id });
  }

  private rowsByName(stackId: string): Map<string, ResourceRecord> {
    return new Map(this.store.resources(stackId).map((r) => [r.name, r]));
  }

  private scope(params: Readonly<Record<string, unknown>>, rows: ReadonlyMap<string, ResourceRecord> | null): FunctionScope {
    return {
      param: (name) => {
        if (!(name in params)) throw stackInvalid(`The Parameter (${name}) was not provided.`);
        return params[name];
      },
      // null rows: validating, before any resource exists.
      resourceId: (name) => (rows === null ? UNRESOLVED : (rows.get(name)?.physical_resource_id ?? null)),
      attribute: (name, attribute) => (rows === null ? UNRESOLVED : (rows.get(name)?.attributes[attribute] ?? null)),
    };
  }

  // ---------------------------------------------------------------- writes

  /** Checks every resource's type and properties as far as they are known before anything exists. */
  private async validateResources(template: Template, params: Readonly<Record<string, unknown>>): Promise<void> {
    const scope = this.scope(params, null);
    for (const name of template.order) {
      const definition = template.resources.get(name) as ResourceDefinition;
      const where = `resources.${name}`;
      const creator = this.types.get(definition.type);
      if (!creator) throw stackInvalid(`${where}: The Resource Type (${definition.type}) could not be found.`);
      const properties = resolveFunctions(definition.properties, scope, `${where}.properties`) as Record<string, unknown>;
      resolveFunctions(definition.metadata, scope, `${where}.metadata`);
      try {
        await creator.validate?.(properties, where);
      } catch (err) {
        // An injected creator may throw any Error: it still is a validation failure (400).
        throw err instanceof HeatError ? err : stackInvalid(errorMessage(err));
      }
    }
    for (const [key, output] of Object.entries(template.outputs)) resolveFunctions(output.value, scope, `outputs.${key}.value`);
  }

  /**
   * POST /stacks: validates, records the stack in CREATE_IN_PROGRESS with its resources
   * in INIT_COMPLETE, emits create.start and returns; the resources are then created in
   * dependency order and the stack ends CREATE_COMPLETE or CREATE_FAILED.
   */
  async createStack(input: StackCreateInput, context: RequestContext): Promise<StackRecord> {
    const { projectId, userId } = context;
    if (!projectId || !userId) throw badRequest('Creating a stack needs a project-scoped token.');
    if (!STACK_NAME.test(input.stackName)) {
      throw stackInvalid(`Invalid stack name ${input.stackName} must contain only alphanumeric or "_-." characters, must start with alpha and must be 255 characters or less.`);
    }
    const template = parseTemplate(input.template);
    const id = randomUUID();
    const params = resolveParameters(template, input.parameters, input.parameterDefaults, { id, name: input.stackName, projectId });
    if (this.store.stack(liveStackByName(input.stackName, projectId))) throw stackExists(input.stackName);
    // Admins are not held to the limit, as in Heat (they can see every stack).
    if (!context.isAdmin && this.store.count(liveStackCount(projectId)) >= this.settings.maxStacksPerProject) {
      throw requestLimitExceeded(`You have reached the maximum stacks per tenant, ${this.settings.maxStacksPerProject}. Please delete some stacks.`);
    }
    await this.validateResources(template, params);

    const now = this.now();
    const stack: StackRecord = {
      id,
      name: input.stackName,
      project_id: projectId,
      user_id: userId,
      username: context.userName,
      action: 'CREATE',
      status: 'IN_PROGRESS',
      status_reason: 'Stack CREATE started',
      template: template.raw,
      parameters: input.parameters,
      parameter_defaults: input.parameterDefaults,
      tags: input.tags,
      timeout_mins: input.timeoutMins,
      created_at: now,
      updated_at: null,
      deleted_at: null,
    };
    const resources = template.order.map((name): ResourceRecord => {
      const definition = template.resources.get(name) as ResourceDefinition;
      return { id: randomUUID(), stack_id: id, name, type: definition.type, physical_resource_id: null, action: 'INIT', status: 'COMPLETE', status_reason: '', properties: {}, attributes: {}, requires: definition.requires, created_at: now, updated_at: null };
    });
    // The unique index decides between two creates of one name racing past the check above.
    if (!this.store.insertStack(stack, resources)) throw stackExists(input.stackName);
    await this.startOperation(stack, template, context, (signal) => this.runCreate(stack, template, params, context, signal));
    return stack;
  }

  /** PUT / PATCH: the stack moves to the new template; changed resources are replaced, removed ones deleted. */
  async updateStack(name: string, id: string, input: StackUpdateInput, context: RequestContext): Promise<void> {
    const stack = this.getStack(name, id, context, false);
    if (stack.status === 'IN_PROGRESS') throw actionInProgress(stack.name, stack.action);
    const templateInput = input.template ?? (input.patch ? stack.template : undefined);
    if (templateInput === undefined) throw badRequest('No template specified');
    const template = parseTemplate(templateInput);
    const given = input.patch ? { ...stack.parameters, ...input.parameters } : { ...input.parameters };
    for (const key of input.clearParameters) delete given[key];
    const defaults = input.patch ? { ...stack.parameter_defaults, ...input.parameterDefaults } : { ...input.parameterDefaults };
    const params = resolveParameters(template, given, defaults, { id: stack.id, name: stack.name, projectId: stack.project_id });
    await this.validateResources(template, params);

    // Validation may have waited: only one operation may start on a stack.
    const current = this.getStack(name, id, context, false);
    if (current.status === 'IN_PROGRESS') throw actionInProgress(current.name, current.action);
    this.store.setStackDefinition(stack.id, {
      template: template.raw,
      parameters: given,
      parameterDefaults: defaults,
      tags: input.tags === undefined ? stack.tags : input.tags,
      timeoutMins: input.timeoutMins === undefined ? stack.timeout_mins : input.timeoutMins,
      updatedAt: this.now(),
    });
    const updating = this.store.setStackState(stack.id, 'UPDATE', 'IN_PROGRESS', 'Stack UPDATE started');
    await this.startOperation(updating, template, context, (signal) => this.runUpdate(updating, template, params, context, signal));
  }

  /** DELETE: cancels a create or update under way, then deletes the resources, dependents first. */
  async deleteStack(name: string, id: string, context: RequestContext): Promise<void> {
    const stack = this.getStack(name, id, context, false);
    if (stack.action === 'DELETE' && stack.status === 'IN_PROGRESS') throw actionInProgress(stack.name, stack.action);
    await this.cancel(stack.id);
    // Re-read: another delete may have started while the cancelled operation wound down.
    const current = this.getStack(name, id, context, false);
    if (current.action === 'DELETE' && current.status === 'IN_PROGRESS') throw actionInProgress(current.name, current.action);
    const deleting = this.store.setStackState(stack.id, 'DELETE', 'IN_PROGRESS', 'Stack DELETE started');
    const template = parseTemplate(deleting.template);
    await this.startOperation(deleting, template, context, () => this.runDelete(deleting, template, context));
  }

  /** Lets operations under way finish (emitting what they emit), so no stack is left IN_PROGRESS by a clean shutdown. */
  async stop(): Promise<void> {
    while (this.operations.size > 0) await Promise.all([...this.operations.values()].map((o) => o.done));
  }

  // ---------------------------------------------------------------- the engine

  /**
   * Starts the background work of a stack whose state was just set to IN_PROGRESS.
   * 1. The start event is handed to the bus first, so the end event never overtakes it.
   * 2. The work starts even if that publish fails: the stack still reaches a final state.
   * 3. The caller waits for the publish, so a bus failure answers 500 like any other.
   */
  private async startOperation(stack: StackRecord, template: Template, context: RequestContext, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const started = this.notify(stack, template.description, context);
    const controller = new AbortController();
    const done: Promise<void> = started
      .catch(() => undefined)
      .then(() => work(controller.signal))
      .catch((err: unknown) => this.logger.error({ err, stack: stack.id }, 'heat-engine: a stack operation failed unexpectedly'))
      .finally(() => {
        if (this.operations.get(stack.id)?.done === done) this.operations.delete(stack.id);
      });
    this.operations.set(stack.id, { controller, done });
    await started;
  }

  private async cancel(stackId: string): Promise<void> {
    const operation = this.operations.get(stackId);
    if (!operation) return;
    operation.controller.abort(new Error('cancelled by a stack delete'));
    await operation.done;
  }

  private async notify(stack: StackRecord, description: string, context: RequestContext): Promise<void> {
    const { eventType, priority } = stackEvent(stack.action, stack.status);
    await this.notifier.notify({ exchange: HEAT_EXCHANGE, publisherId: `${NOTIFICATION_SERVICE}.${this.settings.host}`, eventType, priority, payload: stackPayload(stack, description), context });
  }

  private async finish(stack: StackRecord, template: Template, outcome: 'COMPLETE' | 'FAILED', reason: string, context: RequestContext): Promise<void> {
    const deletedAt = stack.action === 'DELETE' && outcome === 'COMPLETE' ? this.now() : null;
    const final = this.store.setStackState(stack.id, stack.action, outcome, reason, deletedAt);
    await this.notify(final, template.description, context);
  }

  private async runCreate(stack: StackRecord, template: Template, params: Record<string, unknown>, context: RequestContext, signal: AbortSignal): Promise<void> {
    try {
      for (const name of template.order) {
        const row = this.rowsByName(stack.id).get(name) as ResourceRecord;
        await this.createResource(stack, template.resources.get(name) as ResourceDefinition, row, params, 'CREATE', context, signal);
      }
    } catch (err) {
      // A delete cancelled the create: it takes the stack from here, no create event follows.
      if (signal.aborted) return;
      return this.finish(stack, template, 'FAILED', `Resource CREATE failed: ${failureReason(err, 'resources')}`, context);
    }
    if (signal.aborted) return;
    await this.finish(stack, template, 'COMPLETE', 'Stack CREATE completed successfully', context);
  }

  private async runUpdate(stack: StackRecord, template: Template, params: Record<string, unknown>, context: RequestContext, signal: AbortSignal): Promise<void> {
    let action: StackAction = 'UPDATE';
    try {
      for (const name of template.order) {
        const definition = template.resources.get(name) as ResourceDefinition;
        const rows = this.rowsByName(stack.id);
        let row = rows.get(name);
        if (!row || row.action === 'INIT' || !row.physical_resource_id) {
          // New to the stack, or never created: Heat creates it (CREATE_COMPLETE) within the update.
          if (!row) {
            row = { id: randomUUID(), stack_id: stack.id, name, type: definition.type, physical_resource_id: null, action: 'INIT', status: 'COMPLETE', status_reason: '', properties: {}, attributes: {}, requires: definition.requires, created_at: this.now(), updated_at: null };
            this.store.insertResource(row);
          }
          action = 'CREATE';
          await this.createResource(stack, definition, row, params, 'CREATE', context, signal);
          action = 'UPDATE';
          continue;
        }
        const properties = resolveFunctions(definition.properties, this.scope(params, rows), `resources.${name}.properties`);
        // OS::Heat::None is never replaced (its _needs_update is False).
        const keep = row.type === definition.type && (definition.type === 'OS::Heat::None' || (row.status === 'COMPLETE' && sameJson(row.properties, properties)));
        if (keep) {
          this.store.updateResource(row.id, { requires: definition.requires });
          continue;
        }
        // Replace: the old physical resource goes first, so a failure never leaves one the stack does not track.
        this.store.updateResource(row.id, { action: 'UPDATE', status: 'IN_PROGRESS', status_reason: 'state changed', updated_at: this.now() });
        await this.deletePhysical(row, 'UPDATE', context);
        this.store.updateResource(row.id, { physical_resource_id: null, attributes: {} });
        await this.createResource(stack, definition, { ...row, physical_resource_id: null }, params, 'UPDATE', context, signal);
      }
      // What the new template no longer has goes, dependents first.
      const leftover = new Map([...this.rowsByName(stack.id)].filter(([name]) => !template.resources.has(name)));
      action = 'DELETE';
      for (const name of creationOrder(leftover).reverse()) {
        if (signal.aborted) return;
        const row = leftover.get(name) as ResourceRecord;
        this.store.updateResource(row.id, { action: 'DELETE', status: 'IN_PROGRESS', status_reason: 'state changed', updated_at: this.now() });
        await this.deletePhysical(row, 'DELETE', context);
        this.store.deleteResource(row.id);
      }
    } catch (err) {
      if (signal.aborted) return;
      const failedAction = err instanceof ResourceFailure ? err.action : action;
      return this.finish(stack, template, 'FAILED', `Resource ${failedAction} failed: ${failureReason(err, 'resources')}`, context);
    }
    if (signal.aborted) return;
    await this.finish(stack, template, 'COMPLETE', 'Stack UPDATE completed successfully', context);
  }

  private async runDelete(stack: StackRecord, template: Template, context: RequestContext): Promise<void> {
    const rows = this.rowsByName(stack.id);
    let order: string[];
    try {
      order = creationOrder(rows).reverse();
    } catch {
      order = [...rows.keys()].reverse();
    }
    try {
      for (const name of order) {
        const row = rows.get(name) as ResourceRecord;
        this.store.updateResource(row.id, { action: 'DELETE', status: 'IN_PROGRESS', status_reason: 'state changed', updated_at: this.now() });
        await this.deletePhysical(row, 'DELETE', context);
        this.store.deleteResource(row.id);
      }
    } catch (err) {
      return this.finish(stack, template, 'FAILED', `Resource DELETE failed: ${failureReason(err, 'resources')}`, context);
    }
    await this.finish(stack, template, 'COMPLETE', 'Stack DELETE completed successfully', context);
  }

  /**
   * Makes one resource's physical resource.
   * 1. Resolve the properties against the resources made so far.
   * 2. Create, and record the physical id at once: if waiting fails, a delete still finds it.
   * 3. Wait until it is usable, within the resource timeout.
   */
  private async createResource(
    stack: StackRecord,
    definition: ResourceDefinition,
    row: ResourceRecord,
    params: Readonly<Record<string, unknown>>,
    action: 'CREATE' | 'UPDATE',
    context: RequestContext,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted) throw signal.reason;
    const where = `resources.${definition.name}`;
    this.store.updateResource(row.id, { type: definition.type, requires: definition.requires, action, status: 'IN_PROGRESS', status_reason: 'state changed', updated_at: this.now() });
    try {
      const creator = this.types.get(definition.type);
      if (!creator) throw stackInvalid(`The Resource Type (${definition.type}) could not be found.`);
      const properties = resolveFunctions(definition.properties, this.scope(params, this.rowsByName(stack.id)), `${where}.properties`) as Record<string, unknown>;
      this.store.updateResource(row.id, { properties });
      const created = await creator.create(
        { stackId: stack.id, stackName: stack.name, resourceName: definition.name, properties, physicalName: `${stack.name}-${definition.name}-${shortId(row.id)}`, meteringMetadata: { [METERING_STACK_KEY]: stack.id }, signal },
        context,
      );
      this.store.updateResource(row.id, { physical_resource_id: created.id, attributes: created.attributes ?? {} });
      if (creator.checkCreateComplete) await this.waitReady(creator, created.id, action, context, signal);
      this.store.updateResource(row.id, { status: 'COMPLETE', status_reason: 'state changed', updated_at: this.now() });
    } catch (err) {
      if (signal.aborted) throw err;
      const reason = failureReason(err, where);
      this.store.updateResource(row.id, { status: 'FAILED', status_reason: reason, updated_at: this.now() });
      throw new ResourceFailure(action, reason);
    }
  }

  private async waitReady(creator: ResourceCreator, id: string, action: StackAction, context: RequestContext, signal: AbortSignal): Promise<void> {
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const title = `${action.charAt(0)}${action.slice(1).toLowerCase()}`;
    const timer = setTimeout(() => local.abort(new TimeoutError(`${title} timed out`)), this.settings.resourceTimeoutMs);
    try {
      await creator.checkCreateComplete?.(id, context, local.signal);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Deletes a resource's physical resource, if it has one; one already gone counts as deleted. */
  private async deletePhysical(row: ResourceRecord, action: StackAction, context: RequestContext): Promise<void> {
    if (!row.physical_resource_id) return;
    const where = `resources.${row.name}`;
    try {
      const creator = this.types.get(row.type);
      if (!creator) throw stackInvalid(`The Resource Type (${row.type}) could not be found.`);
      await creator.delete(row.physical_resource_id, context);
    } catch (err) {
      if (isNotFound(err)) return;
      const reason = failureReason(err, where);
      this.store.updateResource(row.id, { status: 'FAILED', status_reason: reason, updated_at: this.now() });
      throw new ResourceFailure(action, reason);
    }
  }
}
