import type { StateDatabase } from '../../core/index.ts';

/** Heat's actions and statuses (heat/engine/stack.py); a state is ACTION_STATUS, e.g. CREATE_COMPLETE. */
export type StackAction = 'INIT' | 'CREATE' | 'UPDATE' | 'DELETE';
export type StackStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';

export interface StackRecord {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  username: string | null;
  action: StackAction;
  status: StackStatus;
  status_reason: string;
  template: Record<string, unknown>;
  /** The parameters the user gave (not the defaults): what a PATCH update merges into. */
  parameters: Record<string, unknown>;
  parameter_defaults: Record<string, unknown>;
  tags: string[] | null;
  timeout_mins: number | null;
  created_at: string;
  updated_at: string | null;
  deleted_at: string | null;
}

export interface ResourceRecord {
  id: string;
  stack_id: string;
  name: string;
  type: string;
  physical_resource_id: string | null;
  action: StackAction;
  status: StackStatus;
  status_reason: string;
  /** The properties as resolved when the physical resource was made: an update compares against them. */
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
  requires: string[];
  created_at: string;
  updated_at: string | null;
}

/** A statement with named parameters (`@name`), bound by better-sqlite3: no value is ever spliced in. */
export interface SqlQuery {
  sql: string;
  params: Record<string, string | number | null>;
}

interface StackRow extends Omit<StackRecord, 'template' | 'parameters' | 'parameter_defaults' | 'tags'> {
  template: string;
  parameters: string;
  parameter_defaults: string;
  tags: string | null;
}

interface ResourceRow extends Omit<ResourceRecord, 'properties' | 'attributes' | 'requires'> {
  properties: string;
  attributes: string;
  requires: string;
}

const toStack = (row: StackRow): StackRecord => ({
  ...row,
  template: JSON.parse(row.template) as Record<string, unknown>,
  parameters: JSON.parse(row.parameters) as Record<string, unknown>,
  parameter_defaults: JSON.parse(row.parameter_defaults) as Record<string, unknown>,
  tags: row.tags === null ? null : (JSON.parse(row.tags) as string[]),
});

const toResource = (row: ResourceRow): ResourceRecord => ({
  ...row,
  properties: JSON.parse(row.properties) as Record<string, unknown>,
  attributes: JSON.parse(row.attributes) as Record<string, unknown>,
  requires: JSON.parse(row.requires) as string[],
});

/** A stack by id visible to `projectId` (null: any project, for admins), deleted ones too when asked. */
export const stackById = (id: string, projectId: string | null, showDeleted: boolean): SqlQuery => ({
  sql: 'SELECT * FROM heat_stacks WHERE id = @id AND (@project IS NULL OR project_id = @project) AND (@deleted = 1 OR deleted_at IS NULL)',
  params: { id, project: projectId, deleted: showDeleted ? 1 : 0 },
});

/** The live stack of that name in a project (names are unique among live stacks only). */
export const liveStackByName = (name: string, projectId: string): SqlQuery => ({
  sql: 'SELECT * FROM heat_stacks WHERE name = @name AND project_id = @project AND deleted_at IS NULL',
  params: { name, project: projectId },
});

/** The stacks of a project (null: every project), newest first; filters on other fields are the caller's. */
export const stacksOf = (projectId: string | null, showDeleted: boolean): SqlQuery => ({
  sql: 'SELECT * FROM heat_stacks WHERE (@project IS NULL OR project_id = @project) AND (@deleted = 1 OR deleted_at IS NULL) ORDER BY created_at DESC, id',
  params: { project: projectId, deleted: showDeleted ? 1 : 0 },
});

export const liveStackCount = (projectId: string): SqlQuery => ({
  sql: 'SELECT COUNT(*) AS n FROM heat_stacks WHERE project_id = @project AND deleted_at IS NULL',
  params: { project: projectId },
});

export const insertStack = (stack: StackRecord): SqlQuery => ({
  sql: `INSERT INTO heat_stacks (id, name, project_id, user_id, username, action, status, status_reason, template, parameters, parameter_defaults, tags, timeout_mins, created_at, updated_at, deleted_at)
        VALUES (@id, @name, @project_id, @user_id, @username, @action, @status, @status_reason, @template, @parameters, @parameter_defaults, @tags, @timeout_mins, @created_at, @updated_at, @deleted_at)`,
  params: {
    ...stack,
    template: JSON.stringify(stack.template),
    parameters: JSON.stringify(stack.parameters),
    parameter_defaults: JSON.stringify(stack.parameter_defaults),
    tags: stack.tags === null ? null : JSON.stringify(stack.tags),
  },
});

export const updateStackState = (id: string, action: StackAction, status: StackStatus, reason: string, deletedAt: string | null): SqlQuery => ({
  sql: 'UPDATE heat_stacks SET action = @action, status = @status, status_reason = @reason, deleted_at = COALESCE(@deleted, deleted_at) WHERE id = @id',
  params: { id, action, status, reason, deleted: deletedAt },
});

export const updateStackDefinition = (
  id: string,
  change: { template: Record<string, unknown>; parameters: Record<string, unknown>; parameterDefaults: Record<string, unknown>; tags: string[] | null; timeoutMins: number | null; updatedAt: string },
): SqlQuery => ({
  sql: 'UPDATE heat_stacks SET template = @template, parameters = @parameters, parameter_defaults = @defaults, tags = @tags, timeout_mins = @timeout, updated_at = @updated WHERE id = @id',
  params: {
    id,
    template: JSON.stringify(change.template),
    parameters: JSON.stringify(change.parameters),
    defaults: JSON.stringify(change.parameterDefaults),
    tags: change.tags === null ? null : JSON.stringify(change.tags),
    timeout: change.timeoutMins,
    updated: change.updatedAt,
  },
});

export const resourcesOf = (stackId: string): SqlQuery => ({
  sql: 'SELECT * FROM heat_resources WHERE stack_id = @stack ORDER BY created_at, rowid',
  params: { stack: stackId },
});

export const insertResource = (resource: ResourceRecord): SqlQuery => ({
  sql: `INSERT INTO heat_resources (id, stack_id, name, type, physical_resource_id, action, status, status_reason, properties, attributes, requires, created_at, updated_at)
        VALUES (@id, @stack_id, @name, @type, @physical_resource_id, @action, @status, @status_reason, @properties, @attributes, @requires, @created_at, @updated_at)`,
  params: { ...resource, properties: JSON.stringify(resource.properties), attributes: JSON.stringify(resource.attributes), requires: JSON.stringify(resource.requires) },
});

/** Columns of a resource an engine step may change; unnamed ones keep their value. */
export interface ResourceChange {
  type?: string;
  physical_resource_id?: string | null;
  action?: StackAction;
  status?: StackStatus;
  status_reason?: string;
  properties?: Record<string, unknown>;
  attributes?: Record<string, unknown>;
  requires?: string[];
  updated_at?: string;
}

export function updateResource(id: string, change: ResourceChange): SqlQuery {
  const params: SqlQuery['params'] = { id };
  const sets: string[] = [];
  // Column names come from this fixed list, never from the caller's keys.
  for (const column of ['type', 'physical_resource_id', 'action', 'status', 'status_reason', 'updated_at'] as const) {
    if (change[column] === undefined) continue;
    sets.push(`${column} = @${column}`);
    params[column] = change[column] ?? null;
  }
  for (const column of ['properties', 'attributes', 'requires'] as const) {
    if (change[column] === undefined) continue;
    sets.push(`${column} = @${column}`);
    params[column] = JSON.stringify(change[column]);
  }
  return { sql: `UPDATE heat_resources SET ${sets.join(', ')} WHERE id = @id`, params };
}

export const deleteResource = (id: string): SqlQuery => ({ sql: 'DELETE FROM heat_resources WHERE id = @id', params: { id } });

/** Runs Heat's queries on the control plane's SQLite. */
export class StackStore {
  constructor(private readonly db: StateDatabase) {}

  private run(query: SqlQuery): number {
    return this.db.prepare(query.sql).run(query.params).changes;
  }

  stack(query: SqlQuery): StackRecord | undefined {
    const row = this.db.prepare(query.sql).get(query.params) as StackRow | undefined;
    return row ? toStack(row) : undefined;
  }

  stacks(query: SqlQuery): StackRecord[] {
    return (this.db.prepare(query.sql).all(query.params) as StackRow[]).map(toStack);
  }

  count(query: SqlQuery): number {
    return (this.db.prepare(query.sql).get(query.params) as { n: number }).n;
  }

  /** Inserts a stack with its resources in one transaction; false when a live stack already has its name. */
  insertStack(stack: StackRecord, resources: readonly ResourceRecord[]): boolean {
    try {
      this.db.transaction(() => {
        this.run(insertStack(stack));
        for (const resource of resources) this.run(insertResource(resource));
      })();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  setStackState(id: string, action: StackAction, status: StackStatus, reason: string, deletedAt: string | null = null): StackRecord {
    this.run(updateStackState(id, action, status, reason, deletedAt));
    return this.stack(stackById(id, null, true)) as StackRecord;
  }

  setStackDefinition(id: string, change: Parameters<typeof updateStackDefinition>[1]): void {
    this.run(updateStackDefinition(id, change));
  }

  resources(stackId: string): ResourceRecord[] {
    return (this.db.prepare(resourcesOf(stackId).sql).all(resourcesOf(stackId).params) as ResourceRow[]).map(toResource);
  }

  insertResource(resource: ResourceRecord): void {
    this.run(insertResource(resource));
  }

  updateResource(id: string, change: ResourceChange): void {
    this.run(updateResource(id, change));
  }

  deleteResource(id: string): void {
    this.run(deleteResource(id));
  }
}
