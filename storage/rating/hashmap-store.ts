/**
 * The hashmap rules in the transactional store (SQLite), with CloudKitty's constraints
 * (cloudkitty/rating/hash/db/sqlalchemy): unique service names, field names per service
 * and group names; deleting a service or a field deletes what hangs from it; deleting a
 * group detaches its rules, or deletes them when recursive. Mappings and thresholds with
 * the same key (parent, value or level, group, project) may coexist only over periods that
 * do not overlap. `rater()` answers a Rater over the rules as they are now. Stable API.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError, migrateState, systemClock, type Clock, type StateDatabase } from '../../core/index.ts';
import {
  applyMappingChange,
  applyThresholdChange,
  costText,
  createHashmapRater,
  DEFAULT_HASHMAP_ENABLED,
  DEFAULT_HASHMAP_PRIORITY,
  describePeriod,
  HASHMAP_DESCRIPTION,
  HASHMAP_MODULE_ID,
  HashmapError,
  levelText,
  parseFieldInput,
  parseGroupInput,
  parseMappingInput,
  parseServiceInput,
  parseThresholdInput,
  periodsOverlap,
  ruleTimeText,
  type HashmapField,
  type HashmapGroup,
  type HashmapMapping,
  type HashmapRater,
  type HashmapRules,
  type HashmapService,
  type HashmapThreshold,
  type MapType,
  type MappingInput,
  type RatingModule,
  type ThresholdInput,
} from './hashmap.ts';
import { DEFAULT_CURRENCY, Money } from './money.ts';

/** The component name under which core's migrateState records this store's schema. */
export const HASHMAP_STORE_COMPONENT = 'rating.hashmap';

export interface HashmapStoreConfig {
  /** ISO 4217 code of the single currency rated frames are in (default DEFAULT_CURRENCY). */
  readonly currency?: string;
  readonly clock?: Clock;
}

/** CloudKitty's list filters for mappings and thresholds (all optional; ids are UUIDs). */
export interface RuleFilter {
  /** The service's own rules (not its fields'). */
  readonly service_id?: string;
  /** Used when service_id is not given. */
  readonly field_id?: string;
  readonly group_id?: string;
  /** Rules in no group (when group_id is not given). */
  readonly no_group?: boolean;
  /** With filter_tenant: rules of exactly this project, or of none when absent. Without it, ignored (CloudKitty). */
  readonly tenant_id?: string;
  readonly filter_tenant?: boolean;
  /** Rules in force at this instant (ms). */
  readonly active_at?: number;
  /** Rules starting at or after (ms). */
  readonly start?: number;
  /** Rules ending before (ms). */
  readonly end?: number;
  /** Mappings whose description contains this text (any case). */
  readonly description?: string;
  readonly created_by?: string;
  readonly updated_by?: string;
}

export interface HashmapStore {
  readonly currency: string;
  /** A Rater over the rules as they are now (cached until a rule or the module changes, here or in another process). */
  rater(): HashmapRater;
  /** Every rule, as the rater sees them. */
  rules(): HashmapRules;

  module(moduleId: string): RatingModule;
  modules(): RatingModule[];
  /** CloudKitty's PUT: `enabled` and `priority` change, the rest of the body is what GET showed. */
  updateModule(moduleId: string, change: { enabled?: boolean; priority?: number }): RatingModule;

  listServices(): HashmapService[];
  getService(serviceId: string): HashmapService;
  createService(body: unknown): HashmapService;
  /** Deletes its fields, mappings and thresholds too. */
  deleteService(serviceId: string): void;

  /** A service's fields (every field when no service is given); an unknown service has none. */
  listFields(serviceId?: string): HashmapField[];
  getField(fieldId: string): HashmapField;
  createField(body: unknown): HashmapField;
  deleteField(fieldId: string): void;

  listGroups(): HashmapGroup[];
  getGroup(groupId: string): HashmapGroup;
  createGroup(body: unknown): HashmapGroup;
  /** Recursive deletes the group's mappings and thresholds; otherwise they leave the group (409 when that would make two rules overlap). */
  deleteGroup(groupId: string, recursive: boolean): void;

  listMappings(filter?: RuleFilter): HashmapMapping[];
  getMapping(mappingId: string): HashmapMapping;
  /** `actor`: the user id recorded as created_by. */
  createMapping(body: unknown, actor?: string | null): HashmapMapping;
  updateMapping(mappingId: string, body: unknown, actor?: string | null): HashmapMapping;
  deleteMapping(mappingId: string): void;
  /** The group a mapping is in (404 when in none). */
  groupOfMapping(mappingId: string): HashmapGroup;

  listThresholds(filter?: RuleFilter): HashmapThreshold[];
  getThreshold(thresholdId: string): HashmapThreshold;
  createThreshold(body: unknown): HashmapThreshold;
  updateThreshold(thresholdId: string, body: unknown): HashmapThreshold;
  deleteThreshold(thresholdId: string): void;
  groupOfThreshold(thresholdId: string): HashmapGroup;
}

/**
 * What mappings and thresholds share: the price, its parent (one of service and field; a
 * parent's deletion takes its rules), its group (a group's deletion detaches them), the
 * project and the period. Money and levels are canonical decimal text (never REAL); times
 * are ms since the epoch, null = unbounded.
 */
const RULE_COLUMNS = `map_type TEXT NOT NULL CHECK (map_type IN ('flat', 'rate')),
    cost TEXT NOT NULL,
    service_id TEXT REFERENCES hashmap_services(service_id) ON DELETE CASCADE,
    field_id TEXT REFERENCES hashmap_fields(field_id) ON DELETE CASCADE,
    group_id TEXT REFERENCES hashmap_groups(group_id) ON DELETE SET NULL,
    tenant_id TEXT,
    start_ms INTEGER,
    end_ms INTEGER`;
const RULE_CHECKS = `CHECK ((service_id IS NULL) <> (field_id IS NULL)),
    CHECK (start_ms IS NULL OR end_ms IS NULL OR end_ms > start_ms)`;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rating_modules (
    module_id TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    priority INTEGER NOT NULL
  )`,
  `CREATE TABLE hashmap_services (
    id INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
  )`,
  `CREATE TABLE hashmap_fields (
    id INTEGER PRIMARY KEY,
    field_id TEXT NOT NULL UNIQUE,
    service_id TEXT NOT NULL REFERENCES hashmap_services(service_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (service_id, name)
  )`,
  `CREATE TABLE hashmap_groups (
    id INTEGER PRIMARY KEY,
    group_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
  )`,
  `CREATE TABLE hashmap_mappings (
    id INTEGER PRIMARY KEY,
    mapping_id TEXT NOT NULL UNIQUE,
    value TEXT,
    ${RULE_COLUMNS},
    name TEXT UNIQUE,
    description TEXT,
    created_at_ms INTEGER NOT NULL,
    created_by TEXT,
    updated_by TEXT,
    ${RULE_CHECKS},
    CHECK ((field_id IS NULL) = (value IS NULL))
  )`,
  `CREATE TABLE hashmap_thresholds (
    id INTEGER PRIMARY KEY,
    threshold_id TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL,
    ${RULE_COLUMNS},
    ${RULE_CHECKS}
  )`,
  'CREATE INDEX hashmap_mappings_parent ON hashmap_mappings (service_id, field_id, group_id, tenant_id)',
  'CREATE INDEX hashmap_thresholds_parent ON hashmap_thresholds (service_id, field_id, group_id, tenant_id)',
];

/** The columns mappings and thresholds share (RULE_COLUMNS). */
interface RuleRow {
  map_type: MapType;
  cost: string;
  service_id: string | null;
  field_id: string | null;
  group_id: string | null;
  tenant_id: string | null;
  start_ms: number | null;
  end_ms: number | null;
}

interface MappingRow extends RuleRow {
  mapping_id: string;
  value: string | null;
  name: string | null;
  description: string | null;
  created_at_ms: number;
  created_by: string | null;
  updated_by: string | null;
}

interface ThresholdRow extends RuleRow {
  threshold_id: string;
  level: string;
}

const ruleView = (r: RuleRow) => ({
  start: ruleTimeText(r.start_ms),
  end: ruleTimeText(r.end_ms),
  cost: r.cost,
  type: r.map_type,
  field_id: r.field_id,
  service_id: r.service_id,
  group_id: r.group_id,
  tenant_id: r.tenant_id,
});

const mappingView = (r: MappingRow): HashmapMapping => ({
  mapping_id: r.mapping_id,
  value: r.value,
  created_at: ruleTimeText(r.created_at_ms) as string,
  name: r.name,
  description: r.description,
  deleted: null,
  created_by: r.created_by,
  updated_by: r.updated_by,
  deleted_by: null,
  ...ruleView(r),
});

const thresholdView = (r: ThresholdRow): HashmapThreshold => ({ threshold_id: r.threshold_id, level: r.level, ...ruleView(r) });

const ruleInputOf = (r: RuleRow) => ({
  type: r.map_type,
  cost: new Money(r.cost),
  service_id: r.service_id,
  field_id: r.field_id,
  group_id: r.group_id,
  tenant_id: r.tenant_id,
  startMs: r.start_ms,
  endMs: r.end_ms,
});

const mappingInputOf = (r: MappingRow): MappingInput => ({ ...ruleInputOf(r), value: r.value, name: r.name, description: r.description });
const thresholdInputOf = (r: ThresholdRow): ThresholdInput => ({ ...ruleInputOf(r), level: new Money(r.level) });

const MAPPING_COLUMNS = 'mapping_id, value, map_type, cost, service_id, field_id, group_id, tenant_id, start_ms, end_ms, name, description, created_at_ms, created_by, updated_by';
const THRESHOLD_COLUMNS = 'threshold_id, level, map_type, cost, service_id, field_id, group_id, tenant_id, start_ms, end_ms';
const CURRENCY = /^[A-Z]{3}$/;

// CloudKitty's wording, then what was expected.
const noService = (id: string) => new HashmapError('SERVICE_NOT_FOUND', `No such service: None (UUID: ${id})`);
const noField = (id: string) => new HashmapError('FIELD_NOT_FOUND', `No such field: ${id}`);
const noGroup = (id: string) => new HashmapError('GROUP_NOT_FOUND', `No such group: None (UUID: ${id})`);
const noMapping = (id: string) => new HashmapError('MAPPING_NOT_FOUND', `No such mapping: ${id}`);
const noThreshold = (id: string) => new HashmapError('THRESHOLD_NOT_FOUND', `No such threshold: ${id}`);
/** An unknown parent or group named in a body is the body's fault: 400, as CloudKitty. */
const asInvalid = (err: HashmapError, field: string) => new HashmapError('INVALID', `${err.message}; expected ${field} to name an existing one`, { cause: err });

const isUniqueViolation = (err: unknown) => ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'].includes((err as { code?: string }).code ?? '');

/** Opens (and migrates) the hashmap store on the platform's state database. */
export function createHashmapStore(db: StateDatabase, config: HashmapStoreConfig = {}): HashmapStore {
  const currency = config.currency ?? DEFAULT_CURRENCY;
  if (!CURRENCY.test(currency)) throw new ConfigError(`rating: currency must be an ISO 4217 code of three capital letters (EUR, USD, CHF...), got ${JSON.stringify(config.currency)}`);
  const clock = config.clock ?? systemClock;

  migrateState(db, HASHMAP_STORE_COMPONENT, MIGRATIONS);
  db.prepare('INSERT OR IGNORE INTO rating_modules (module_id, enabled, priority) VALUES (?, ?, ?)').run(HASHMAP_MODULE_ID, DEFAULT_HASHMAP_ENABLED ? 1 : 0, DEFAULT_HASHMAP_PRIORITY);

  const sql = {
    module: db.prepare<[string], { module_id: string; enabled: number; priority: number }>('SELECT module_id, enabled, priority FROM rating_modules WHERE module_id = ?'),
    modules: db.prepare<[], { module_id: string; enabled: number; priority: number }>('SELECT module_id, enabled, priority FROM rating_modules ORDER BY module_id'),
    setModule: db.prepare<[number, number, string]>('UPDATE rating_modules SET enabled = ?, priority = ? WHERE module_id = ?'),

    services: db.prepare<[], HashmapService>('SELECT service_id, name FROM hashmap_services ORDER BY id'),
    service: db.prepare<[string], HashmapService>('SELECT service_id, name FROM hashmap_services WHERE service_id = ?'),
    serviceByName: db.prepare<[string], { id: string }>('SELECT service_id AS id FROM hashmap_services WHERE name = ?'),
    insertService: db.prepare<[string, string]>('INSERT INTO hashmap_services (service_id, name) VALUES (?, ?)'),
    deleteService: db.prepare<[string]>('DELETE FROM hashmap_services WHERE service_id = ?'),

    fields: db.prepare<[], HashmapField>('SELECT field_id, name, service_id FROM hashmap_fields ORDER BY id'),
    fieldsOf: db.prepare<[string], HashmapField>('SELECT field_id, name, service_id FROM hashmap_fields WHERE service_id = ? ORDER BY id'),
    field: db.prepare<[string], HashmapField>('SELECT field_id, name, service_id FROM hashmap_fields WHERE field_id = ?'),
    fieldByName: db.prepare<[string, string], HashmapField>('SELECT field_id, name, service_id FROM hashmap_fields WHERE service_id = ? AND name = ?'),
    insertField: db.prepare<[string, string, string]>('INSERT INTO hashmap_fields (field_id, service_id, name) VALUES (?, ?, ?)'),
    deleteField: db.prepare<[string]>('DELETE FROM hashmap_fields WHERE field_id = ?'),

    groups: db.prepare<[], HashmapGroup>('SELECT group_id, name FROM hashmap_groups ORDER BY id'),
    group: db.prepare<[string], HashmapGroup>('SELECT group_id, name FROM hashmap_groups WHERE group_id = ?'),
    groupByName: db.prepare<[string], { id: string }>('SELECT group_id AS id FROM hashmap_groups WHERE name = ?'),
    insertGroup: db.prepare<[string, string]>('INSERT INTO hashmap_groups (group_id, name) VALUES (?, ?)'),
    deleteGroup: db.prepare<[string]>('DELETE FROM hashmap_groups WHERE group_id = ?'),
    deleteGroupMappings: db.prepare<[string]>('DELETE FROM hashmap_mappings WHERE group_id = ?'),
    deleteGroupThresholds: db.prepare<[string]>('DELETE FROM hashmap_thresholds WHERE group_id = ?'),
    groupMappings: db.prepare<[string], MappingRow>(`SELECT ${MAPPING_COLUMNS} FROM hashmap_mappings WHERE group_id = ? ORDER BY id`),
    groupThresholds: db.prepare<[string], ThresholdRow>(`SELECT ${THRESHOLD_COLUMNS} FROM hashmap_thresholds WHERE group_id = ? ORDER BY id`),

    mapping: db.prepare<[string], MappingRow>(`SELECT ${MAPPING_COLUMNS} FROM hashmap_mappings WHERE mapping_id = ?`),
    allMappings: db.prepare<[], MappingRow>(`SELECT ${MAPPING_COLUMNS} FROM hashmap_mappings ORDER BY id`),
    mappingByName: db.prepare<[string, string], { mapping_id: string }>('SELECT mapping_id FROM hashmap_mappings WHERE name = ? AND mapping_id <> ?'),
    // Same key: `IS` compares nulls as equal.
    mappingsWithKey: db.prepare<{ service_id: string | null; field_id: string | null; value: string | null; group_id: string | null; tenant_id: string | null; except: string }, MappingRow>(
      `SELECT ${MAPPING_COLUMNS} FROM hashmap_mappings
       WHERE service_id IS @service_id AND field_id IS @field_id AND value IS @value AND group_id IS @group_id AND tenant_id IS @tenant_id AND mapping_id <> @except ORDER BY id`,
    ),
    insertMapping: db.prepare(
      `INSERT INTO hashmap_mappings (${MAPPING_COLUMNS})
       VALUES (@mapping_id, @value, @map_type, @cost, @service_id, @field_id, @group_id, @tenant_id, @start_ms, @end_ms, @name, @description, @created_at_ms, @created_by, @updated_by)`,
    ),
    updateMapping: db.prepare(
      `UPDATE hashmap_mappings SET value = @value, map_type = @map_type, cost = @cost, group_id = @group_id, tenant_id = @tenant_id, start_ms = @start_ms,
       end_ms = @end_ms, name = @name, description = @description, updated_by = @updated_by WHERE mapping_id = @mapping_id`,
    ),
    deleteMapping: db.prepare<[string]>('DELETE FROM hashmap_mappings WHERE mapping_id = ?'),

    threshold: db.prepare<[string], ThresholdRow>(`SELECT ${THRESHOLD_COLUMNS} FROM hashmap_thresholds WHERE threshold_id = ?`),
    allThresholds: db.prepare<[], ThresholdRow>(`SELECT ${THRESHOLD_COLUMNS} FROM hashmap_thresholds ORDER BY id`),
    thresholdsWithKey: db.prepare<{ service_id: string | null; field_id: string | null; level: string; group_id: string | null; tenant_id: string | null; except: string }, ThresholdRow>(
      `SELECT ${THRESHOLD_COLUMNS} FROM hashmap_thresholds
       WHERE service_id IS @service_id AND field_id IS @field_id AND level = @level AND group_id IS @group_id AND tenant_id IS @tenant_id AND threshold_id <> @except ORDER BY id`,
    ),
    insertThreshold: db.prepare(
      `INSERT INTO hashmap_thresholds (${THRESHOLD_COLUMNS})
       VALUES (@threshold_id, @level, @map_type, @cost, @service_id, @field_id, @group_id, @tenant_id, @start_ms, @end_ms)`,
    ),
    updateThreshold: db.prepare(
      `UPDATE hashmap_thresholds SET level = @level, map_type = @map_type, cost = @cost, group_id = @group_id, tenant_id = @tenant_id,
       start_ms = @start_ms, end_ms = @end_ms WHERE threshold_id = @threshold_id`,
    ),
    deleteThreshold: db.prepare<[string]>('DELETE FROM hashmap_thresholds WHERE threshold_id = ?'),
  };

  // The rater is rebuilt after our own changes (generation) and after another connection's commits (data_version).
  let generation = 0;
  let cached: { generation: number; dataVersion: number; rater: HashmapRater } | null = null;
  const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
  const changed = () => void generation++;

  const moduleView = (row: { module_id: string; enabled: number; priority: number }): RatingModule => ({
    module_id: row.module_id,
    description: HASHMAP_DESCRIPTION,
    enabled: row.enabled === 1,
    'hot-config': true,
    priority: row.priority,
  });
  const readModule = (moduleId: string) => {
    const row = sql.module.get(moduleId);
    if (row === undefined) throw new HashmapError('MODULE_NOT_FOUND', `Module not found.; expected one of: ${sql.modules.all().map((m) => m.module_id).join(', ')}`);
    return moduleView(row);
  };

  const readService = (id: string) => sql.service.get(id) ?? (() => { throw noService(id); })();
  const readField = (id: string) => sql.field.get(id) ?? (() => { throw noField(id); })();
  const readGroup = (id: string) => sql.group.get(id) ?? (() => { throw noGroup(id); })();
  const readMapping = (id: string) => sql.mapping.get(id) ?? (() => { throw noMapping(id); })();
  const readThreshold = (id: string) => sql.threshold.get(id) ?? (() => { throw noThreshold(id); })();

  /** The parent and the group a rule body names must exist: 400 otherwise (CloudKitty's ClientHashMapError). */
  const checkReferences = (input: { service_id: string | null; field_id: string | null; group_id: string | null }) => {
    const check = (fn: () => void, field: string) => {
      try {
        fn();
      } catch (err) {
        throw err instanceof HashmapError ? asInvalid(err, field) : err;
      }
    };
    if (input.service_id !== null) check(() => readService(input.service_id as string), 'service_id');
    if (input.field_id !== null) check(() => readField(input.field_id as string), 'field_id');
    if (input.group_id !== null) check(() => readGroup(input.group_id as string), 'group_id');
  };

  const parentText = (r: { service_id: string | null; field_id: string | null }) => (r.field_id !== null ? `field '${r.field_id}'` : `service '${r.service_id}'`);
  const groupText = (groupId: string | null) => (groupId === null ? 'no group' : `group '${groupId}'`);

  /** 409 when a rule of the same kind and key (parent, value or level, group, project) is in force over an overlapping period. */
  const checkOverlap = (kind: 'mapping' | 'threshold', id: string, input: MappingInput | ThresholdInput) => {
    const key = { service_id: input.service_id, field_id: input.field_id, group_id: input.group_id, tenant_id: input.tenant_id, except: id };
    const [label, keyText, sameKey] =
      kind === 'mapping'
        ? ['Mapping', (input as MappingInput).value ?? 'None', sql.mappingsWithKey.all({ ...key, value: (input as MappingInput).value }).map((r) => ({ id: r.mapping_id, start_ms: r.start_ms, end_ms: r.end_ms }))]
        : ['Threshold', levelText((input as ThresholdInput).level), sql.thresholdsWithKey.all({ ...key, level: levelText((input as ThresholdInput).level) }).map((r) => ({ id: r.threshold_id, start_ms: r.start_ms, end_ms: r.end_ms }))];
    const clash = sameKey.find((other) => periodsOverlap(input.startMs, input.endMs, other.start_ms, other.end_ms));
    if (clash !== undefined) {
      throw new HashmapError(
        kind === 'mapping' ? 'MAPPING_EXISTS' : 'THRESHOLD_EXISTS',
        `${label} '${keyText}' already exists for ${parentText(input)}, tenant: '${input.tenant_id ?? 'None'}' (${groupText(input.group_id)}): ${kind} ${clash.id} is in force ${describePeriod(clash.start_ms, clash.end_ms)}, which overlaps ${describePeriod(input.startMs, input.endMs)}; end it first (PUT its end) or choose a period after it`,
      );
    }
  };
  /**
   * One rule write, in one transaction: 1. the group (and on creation the parent) exist;
   * 2. a mapping's name is free; 3. no same-key rule overlaps; 4. write. The rater is
   * rebuilt after the commit.
   */
  const writeRule = <I extends MappingInput | ThresholdInput>(kind: 'mapping' | 'threshold', id: string, inputOf: () => I, write: (input: I) => void, creating: boolean) => {
    db.transaction(() => {
      const input = inputOf();
      checkReferences(creating ? input : { service_id: null, field_id: null, group_id: input.group_id });
      if (kind === 'mapping') checkMappingName(id, (input as MappingInput).name);
      checkOverlap(kind, id, input);
      write(input);
    })();
    changed();
  };
  const checkMappingName = (id: string, name: string | null) => {
    const other = name === null ? undefined : sql.mappingByName.get(name, id);
    if (other !== undefined) throw new HashmapError('MAPPING_EXISTS', `Mapping name '${name}' is already used by mapping ${other.mapping_id}; expected a unique name`);
  };

  /** The bound parameters of a rule's RULE_COLUMNS. */
  const ruleParams = (input: MappingInput | ThresholdInput) => ({
    map_type: input.type,
    cost: costText(input.cost),
    service_id: input.service_id,
    field_id: input.field_id,
    group_id: input.group_id,
    tenant_id: input.tenant_id,
    start_ms: input.startMs,
    end_ms: input.endMs,
  });
  const mappingParams = (id: string, input: MappingInput, actor: string | null) => ({
    ...ruleParams(input),
    mapping_id: id,
    value: input.value,
    name: input.name,
    description: input.description,
    created_at_ms: clock.nowMs(),
    created_by: actor,
    updated_by: actor,
  });
  const thresholdParams = (id: string, input: ThresholdInput) => ({ ...ruleParams(input), threshold_id: id, level: levelText(input.level) });

  const ruleFilter = (filter: RuleFilter, table: 'mappings' | 'thresholds') => {
    const where: string[] = [];
    const params: Record<string, string | number | null> = {};
    // CloudKitty: service_id, else field_id; group_id, else no_group.
    if (filter.service_id !== undefined) {
      where.push('service_id = @service_id');
      params.service_id = filter.service_id;
    } else if (filter.field_id !== undefined) {
      where.push('field_id = @field_id');
      params.field_id = filter.field_id;
    }
    if (filter.group_id !== undefined) {
      where.push('group_id = @group_id');
      params.group_id = filter.group_id;
    } else if (filter.no_group) where.push('group_id IS NULL');
    if (filter.filter_tenant) {
      where.push('tenant_id IS @tenant_id');
      params.tenant_id = filter.tenant_id ?? null;
    }
    if (filter.active_at !== undefined) {
      where.push('(start_ms IS NULL OR start_ms <= @active_at) AND (end_ms IS NULL OR end_ms > @active_at)');
      params.active_at = filter.active_at;
    }
    if (filter.start !== undefined) {
      where.push('start_ms >= @start');
      params.start = filter.start;
    }
    if (filter.end !== undefined) {
      where.push('end_ms < @end');
      params.end = filter.end;
    }
    if (table === 'mappings') {
      // instr, not LIKE: a % or _ in the text is matched as itself.
      if (filter.description !== undefined) {
        where.push('instr(lower(description), lower(@description)) > 0');
        params.description = filter.description;
      }
      if (filter.created_by !== undefined) {
        where.push('created_by = @created_by');
        params.created_by = filter.created_by;
      }
      if (filter.updated_by !== undefined) {
        where.push('updated_by = @updated_by');
        params.updated_by = filter.updated_by;
      }
    }
    return { where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
  };

  const readRules = (): HashmapRules => ({
    services: sql.services.all(),
    fields: sql.fields.all(),
    groups: sql.groups.all(),
    mappings: sql.allMappings.all().map(mappingView),
    thresholds: sql.allThresholds.all().map(thresholdView),
  });

  const groupOfRule = (label: 'Mapping' | 'Threshold', id: string, groupId: string | null) => {
    if (groupId === null) throw new HashmapError('NO_GROUP', `${label} has no group (UUID: ${id})`);
    return readGroup(groupId);
  };
  /** Runs an insert; a unique-key violation becomes `kind` (409) with the message `existing()` words. */
  const insertUnique = (kind: 'SERVICE_EXISTS' | 'FIELD_EXISTS' | 'GROUP_EXISTS', insert: () => void, existing: () => string): void => {
    try {
      insert();
    } catch (err) {
      if (isUniqueViolation(err)) throw new HashmapError(kind, existing(), { cause: err });
      throw err;
    }
  };
  /** A new service or group (unique names): its id. */
  const insertNamed = (what: 'SERVICE' | 'GROUP', name: string): string => {
    const id = randomUUID();
    const [insert, byName, label] = what === 'SERVICE' ? [sql.insertService, sql.serviceByName, 'Service'] : [sql.insertGroup, sql.groupByName, 'Group'];
    insertUnique(`${what}_EXISTS`, () => insert.run(id, name), () => `${label} ${name} already exists (UUID: ${byName.get(name)?.id})`);
    changed();
    return id;
  };

  return {
    currency,

    rater() {
      // 1. read the version before the rules, so a commit between the two is seen next time.
      const version = dataVersion();
      if (cached !== null && cached.generation === generation && cached.dataVersion === version) return cached.rater;
      // 2. rules and module state from one read transaction: a rater never mixes two states.
      const { rules, enabled } = db.transaction(() => ({ rules: readRules(), enabled: readModule(HASHMAP_MODULE_ID).enabled }))();
      cached = { generation, dataVersion: version, rater: createHashmapRater(rules, { currency, enabled }) };
      return cached.rater;
    },

    rules: () => db.transaction(readRules)(),

    module: readModule,
    modules: () => sql.modules.all().map(moduleView),
    updateModule(moduleId, change) {
      const current = readModule(moduleId);
      if (change.priority !== undefined && !Number.isInteger(change.priority)) throw new HashmapError('INVALID', `Invalid input for field/attribute priority. Value: ${JSON.stringify(change.priority)}. Expected a whole number`);
      sql.setModule.run((change.enabled ?? current.enabled) ? 1 : 0, change.priority ?? current.priority, moduleId);
      changed();
      return readModule(moduleId);
    },

    listServices: () => sql.services.all(),
    getService: readService,
    createService(body) {
      const { name } = parseServiceInput(body);
      return { service_id: insertNamed('SERVICE', name), name };
    },
    deleteService(serviceId) {
      if (sql.deleteService.run(serviceId).changes === 0) throw noService(serviceId);
      changed();
    },

    listFields: (serviceId) => (serviceId === undefined ? sql.fields.all() : sql.fieldsOf.all(serviceId)),
    getField: readField,
    createField(body) {
      const input = parseFieldInput(body);
      const field = { field_id: randomUUID(), name: input.name, service_id: input.service_id };
      db.transaction(() => {
        checkReferences({ service_id: input.service_id, field_id: null, group_id: null });
        insertUnique('FIELD_EXISTS', () => sql.insertField.run(field.field_id, field.service_id, field.name), () => `Field ${input.name} already exists (UUID: ${sql.fieldByName.get(input.service_id, input.name)?.field_id})`);
      })();
      changed();
      return field;
    },
    deleteField(fieldId) {
      if (sql.deleteField.run(fieldId).changes === 0) throw noField(fieldId);
      changed();
    },

    listGroups: () => sql.groups.all(),
    getGroup: readGroup,
    createGroup(body) {
      const { name } = parseGroupInput(body);
      return { group_id: insertNamed('GROUP', name), name };
    },
    deleteGroup(groupId, recursive) {
      db.transaction(() => {
        readGroup(groupId);
        if (recursive) {
          sql.deleteGroupMappings.run(groupId);
          sql.deleteGroupThresholds.run(groupId);
        } else {
          // Leaving the group must not put two rules with the same key in force at once.
          for (const row of sql.groupMappings.all(groupId)) {
            const input = { ...mappingInputOf(row), group_id: null };
            try {
              checkOverlap('mapping', row.mapping_id, input);
            } catch (err) {
              throw new HashmapError('GROUP_IN_USE', `Group ${groupId} cannot be deleted without its rules: mapping ${row.mapping_id} would leave it and clash: ${(err as Error).message}; delete with recursive=true, or move or end the rules first`, { cause: err });
            }
          }
          for (const row of sql.groupThresholds.all(groupId)) {
            const input = { ...thresholdInputOf(row), group_id: null };
            try {
              checkOverlap('threshold', row.threshold_id, input);
            } catch (err) {
              throw new HashmapError('GROUP_IN_USE', `Group ${groupId} cannot be deleted without its rules: threshold ${row.threshold_id} would leave it and clash: ${(err as Error).message}; delete with recursive=true, or move or end the rules first`, { cause: err });
            }
          }
        }
        sql.deleteGroup.run(groupId);
      })();
      changed();
    },

    listMappings(filter = {}) {
      const { where, params } = ruleFilter(filter, 'mappings');
      return db.prepare<Record<string, string | number | null>, MappingRow>(`SELECT ${MAPPING_COLUMNS} FROM hashmap_mappings ${where} ORDER BY id`).all(params).map(mappingView);
    },
    getMapping: (mappingId) => mappingView(readMapping(mappingId)),
    createMapping(body, actor = null) {
      const input = parseMappingInput(body);
      const id = randomUUID();
      writeRule('mapping', id, () => input, (i) => sql.insertMapping.run({ ...mappingParams(id, i, actor), updated_by: null }), true);
      return mappingView(readMapping(id));
    },
    updateMapping(mappingId, body, actor = null) {
      writeRule('mapping', mappingId, () => applyMappingChange(mappingView(readMapping(mappingId)), body), (i) => sql.updateMapping.run(mappingParams(mappingId, i, actor)), false);
      return mappingView(readMapping(mappingId));
    },
    deleteMapping(mappingId) {
      if (sql.deleteMapping.run(mappingId).changes === 0) throw noMapping(mappingId);
      changed();
    },
    groupOfMapping: (mappingId) => groupOfRule('Mapping', mappingId, readMapping(mappingId).group_id),

    listThresholds(filter = {}) {
      const { where, params } = ruleFilter(filter, 'thresholds');
      return db.prepare<Record<string, string | number | null>, ThresholdRow>(`SELECT ${THRESHOLD_COLUMNS} FROM hashmap_thresholds ${where} ORDER BY id`).all(params).map(thresholdView);
    },
    getThreshold: (thresholdId) => thresholdView(readThreshold(thresholdId)),
    createThreshold(body) {
      const input = parseThresholdInput(body);
      const id = randomUUID();
      writeRule('threshold', id, () => input, (i) => sql.insertThreshold.run(thresholdParams(id, i)), true);
      return thresholdView(readThreshold(id));
    },
    updateThreshold(thresholdId, body) {
      writeRule('threshold', thresholdId, () => applyThresholdChange(thresholdView(readThreshold(thresholdId)), body), (i) => sql.updateThreshold.run(thresholdParams(thresholdId, i)), false);
      return thresholdView(readThreshold(thresholdId));
    },
    deleteThreshold(thresholdId) {
      if (sql.deleteThreshold.run(thresholdId).changes === 0) throw noThreshold(thresholdId);
      changed();
    },
    groupOfThreshold: (thresholdId) => groupOfRule('Threshold', thresholdId, readThreshold(thresholdId).group_id),
  };
}
