/**
 * Scale-out DDL: the migrations, written for one ClickHouse server, rendered for a
 * cluster (CLICKHOUSE_CLUSTER). Experimental. docs/scale-out.md explains the layout:
 * - a MergeTree-family table `t` becomes `t_local`, Replicated*MergeTree on every node
 *   (Keeper path per shard, `{shard}` and `{replica}` macros), plus a Distributed table
 *   `t` over them: readers and writers keep using the names they always used;
 * - tables every node must answer for alone (the batch plans, the migration ledger) are
 *   replicated to every node instead of sharded, under the same name;
 * - a materialized view triggers on the local table it reads and writes its local
 *   target, so each shard aggregates its own rows; tables it joins stay Distributed;
 * - every DDL statement runs `ON CLUSTER <name>`.
 * The renderer is a transformation of the statements, not a second copy of the schema, so
 * a new migration is rendered without work here; a statement it cannot render safely is
 * refused with CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED rather than run on one node only.
 */
import { ConfigError, CumulusError } from '../../core/errors.ts';
import type { Migration } from './migrations/types.ts';

export interface ClusterOptions {
  /** The cluster as named in the servers' `remote_servers` (CLICKHOUSE_CLUSTER). */
  readonly name: string;
  /** Database the Distributed tables read; `currentDatabase()` of each node when unset. */
  readonly database?: string;
  /** Root of the tables' Keeper paths. */
  readonly keeperPath?: string;
  /** Sharding key expression per table name, over {@link DEFAULT_SHARDING_KEYS}. */
  readonly shardingKeys?: Readonly<Record<string, string>>;
}

export const DEFAULT_KEEPER_PATH = '/clickhouse/tables';
/** Suffix of the per-node table behind a Distributed table of the original name. */
export const LOCAL_TABLE_SUFFIX = '_local';

/**
 * Where each known table's rows go. Rows that must merge together (same sort key in a
 * Replacing/Aggregating table) must be on one shard, so every key is a function of sort
 * key columns; beyond that, a metric's measures and rollups share a shard (a metric's
 * query reads one shard), and a project's rated usage does (a bill is summed on one).
 * Tables not listed are sharded by a hash of their whole sort key.
 */
export const DEFAULT_SHARDING_KEYS: Readonly<Record<string, string>> = {
  metrics: 'cityHash64(id)',
  resources: 'cityHash64(id)',
  // A resource's revisions beside its current row: history reads one shard.
  resource_history: 'cityHash64(id)',
  measures: 'cityHash64(metric_id)',
  rollups: 'cityHash64(metric_id)',
  events: 'cityHash64(message_id)',
  audit_records: 'cityHash64(id)',
  logs: 'cityHash64(id)',
  rated_usage: 'cityHash64(project_id)',
};

/**
 * Tables replicated to every node rather than sharded: each is small and read by key
 * right after it was written, from whichever node a process is connected to.
 */
export const REPLICATED_ON_EVERY_NODE: readonly string[] = ['ingest_plans', 'schema_migrations'];

/** A statement the cluster renderer cannot turn into cluster DDL safely. */
export class ClusterDdlError extends CumulusError {
  constructor(message: string) {
    super('CUMULUS_STORAGE_CLUSTER_DDL_UNSUPPORTED', message);
    this.name = 'ClusterDdlError';
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MERGE_TREE_FAMILY = /^(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite|Coalescing)?MergeTree$/;
/** A replay must route every row where the first attempt did, or a shard would keep it twice. */
const NON_DETERMINISTIC = /\b(rand\w*|generateUUID\w*|now\w*|today|yesterday)\s*\(/i;
/** A table name as the scan sees it: quoted names are NUL there, so a name is read back from the text by its span. */
const NAME = '(?:\\0+|[A-Za-z_][A-Za-z0-9_]*)(?:\\.(?:\\0+|[A-Za-z_][A-Za-z0-9_]*))?';

/** Options checked and completed with the defaults. */
export interface ResolvedClusterOptions {
  readonly name: string;
  readonly database?: string;
  readonly keeperPath: string;
  readonly shardingKeys: Readonly<Record<string, string>>;
}

/** Validated options, or null when no cluster is configured (empty name included). */
export function clusterOptions(cluster: string | ClusterOptions | null | undefined): ResolvedClusterOptions | null {
  if (cluster === undefined || cluster === null) return null;
  const options: ClusterOptions = typeof cluster === 'string' ? { name: cluster } : cluster;
  const name = options.name.trim();
  if (name === '') return null;
  if (!IDENTIFIER.test(name)) throw new ConfigError(`store.clickhouseCluster (env CLICKHOUSE_CLUSTER) must be a ClickHouse identifier (letters, digits, _), got ${JSON.stringify(options.name)}`);
  if (options.database !== undefined && !IDENTIFIER.test(options.database)) throw new ConfigError(`the cluster's database must be a ClickHouse identifier (letters, digits, _), got ${JSON.stringify(options.database)}`);
  const keeperPath = (options.keeperPath ?? DEFAULT_KEEPER_PATH).replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9_.{}/-]+$/.test(keeperPath)) throw new ConfigError(`the cluster's keeperPath must be an absolute Keeper path (letters, digits, _ . - { } /), got ${JSON.stringify(options.keeperPath)}`);
  const shardingKeys = { ...DEFAULT_SHARDING_KEYS, ...options.shardingKeys };
  for (const [table, key] of Object.entries(shardingKeys)) checkShardingKey(table, key);
  return { name, keeperPath, shardingKeys, ...(options.database !== undefined ? { database: options.database } : {}) };
}

function checkShardingKey(table: string, key: string): void {
  if (key.trim() === '' || key.includes(';')) throw new ConfigError(`the sharding key of ${table} must be one expression, got ${JSON.stringify(key)}`);
  if (NON_DETERMINISTIC.test(key)) throw new ConfigError(`the sharding key of ${table} must be a function of the row (a replayed insert must reach the same shard), got ${JSON.stringify(key)}`);
}

// ---------------------------------------------------------------------------------------
// A statement, scanned once: `masked` is the text with literals (quoted strings and
// identifiers) turned into NUL and comments into spaces, and `depth` the parenthesis depth
// before each character, so keywords are searched for only in code, at the top level.

interface Scanned {
  readonly text: string;
  readonly masked: string;
  readonly depth: readonly number[];
}

function scan(text: string): Scanned {
  const masked: string[] = [];
  const depth: number[] = [];
  let d = 0;
  const fill = (from: number, to: number, char: string) => {
    for (let k = from; k < to; k++) {
      masked.push(text[k] === '\n' ? '\n' : char);
      depth.push(d);
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      fill(i, stop, ' ');
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      fill(i, stop, ' ');
      i = stop;
    } else if (c === "'" || c === '`' || c === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === '\\') j += 2;
        else if (text[j] === c && text[j + 1] === c) j += 2;
        else if (text[j] === c) break;
        else j++;
      }
      const stop = Math.min(j + 1, text.length);
      fill(i, stop, '\0');
      i = stop;
    } else {
      if (c === ')') d--;
      masked.push(c);
      depth.push(d);
      if (c === '(') d++;
      i++;
    }
  }
  return { text, masked: masked.join(''), depth };
}

/** The first match of `pattern` (searched in code only) at parenthesis depth 0, from `from`. */
function findTopLevel(s: Scanned, pattern: RegExp, from = 0): RegExpExecArray | null {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  re.lastIndex = from;
  for (let m = re.exec(s.masked); m !== null; m = re.exec(s.masked)) {
    if (s.depth[m.index] === 0) return m;
    if (m[0] === '') re.lastIndex++;
  }
  return null;
}

/** Index of the parenthesis closing the one at `open`. */
function closingParen(s: Scanned, open: number): number {
  for (let k = open + 1; k < s.masked.length; k++) {
    if (s.masked[k] === ')' && s.depth[k] === s.depth[open]) return k;
  }
  throw new ClusterDdlError(`unbalanced parentheses in: ${excerpt(s.text)}`);
}

/** Replaces matches of `pattern` that lie in code (not in a literal or a comment). */
function replaceInCode(text: string, pattern: RegExp, replacement: string): string {
  const masked = scan(text).masked;
  return text.replace(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`), (match: string, ...rest: unknown[]) => {
    const offset = rest.find((value) => typeof value === 'number') as number;
    return masked.slice(offset, offset + match.length) === match ? replacement : match;
  });
}

const excerpt = (sql: string) => {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
};

/** A table name as written (`db.t`, `` `t` ``): its bare table part and how to suffix it. */
interface TableName {
  readonly text: string;
  readonly table: string;
  withSuffix(suffix: string): string;
}

function tableName(text: string): TableName {
  const dot = text.lastIndexOf('.');
  // No prefix when the last dot is inside a quoted name (`a.b`).
  const prefix = dot === -1 || (text.endsWith('`') && text.lastIndexOf('`', text.length - 2) > dot) ? '' : text.slice(0, dot + 1);
  const last = text.slice(prefix.length);
  const quoted = last.startsWith('`');
  const table = quoted ? last.slice(1, -1) : last;
  return { text, table, withSuffix: (suffix) => `${prefix}${quoted ? `\`${table}${suffix}\`` : `${table}${suffix}`}` };
}

/** Start of the statement's first keyword (after leading blanks and comments). */
function statementStart(s: Scanned): number {
  const m = /\S/.exec(s.masked);
  return m === null ? s.text.length : m.index;
}

// ---------------------------------------------------------------------------------------

export interface ClusterRenderer {
  readonly options: ResolvedClusterOptions;
  /** The statements (one or two) that do on the cluster what `statement` does on one server. */
  render(statement: string): string[];
}

/** A match of a pattern ending in a NAME group: the name as written and where it ends. */
interface Named {
  readonly match: RegExpExecArray;
  readonly name: TableName;
  readonly nameStart: number;
  readonly nameEnd: number;
}

function named(s: Scanned, match: RegExpExecArray | null): Named | null {
  if (match === null) return null;
  const nameEnd = match.index + match[0].length;
  const nameStart = nameEnd - (match[match.length - 1] as string).length;
  return { match, name: tableName(s.text.slice(nameStart, nameEnd)), nameStart, nameEnd };
}

const DEDUP_SETTING = /\bnon_replicated_deduplication_window\b/;

/**
 * A renderer with memory: it learns which tables were split into local + Distributed
 * from the statements it rendered, so later ALTERs, views and DROPs find the local
 * table. Render every migration in order, including those already applied.
 */
export function createClusterRenderer(cluster: string | ClusterOptions): ClusterRenderer {
  const options = clusterOptions(cluster);
  if (options === null) throw new ConfigError('a cluster name is required to render cluster DDL (store.clickhouseCluster, env CLICKHOUSE_CLUSTER)');
  const onCluster = ` ON CLUSTER ${options.name}`;
  /** Tables (and views with their own storage) split into `<name>_local` + Distributed `<name>`. */
  const split = new Set<string>();
  const database = options.database ?? 'currentDatabase()';
  const local = (name: TableName) => (split.has(name.table) ? name.withSuffix(LOCAL_TABLE_SUFFIX) : name.text);

  const replicatedEngine = (engine: string, args: string, table: string, everyNode: boolean) => {
    const path = `${options.keeperPath}/${everyNode ? 'all' : '{shard}'}/{database}/${table}`;
    // On every node the replicas share one path, so a replica's name must be unique cluster-wide.
    const replica = everyNode ? '{shard}-{replica}' : '{replica}';
    return `Replicated${engine}('${path}', '${replica}'${args.trim() === '' ? '' : `, ${args.trim()}`})`;
  };

  const shardingKey = (table: string, s: Scanned, from: number, to: number) => {
    const configured = options.shardingKeys[table];
    if (configured !== undefined) return configured;
    const orderBy = findTopLevel(s, /\bORDER\s+BY\s+/i, from);
    if (orderBy === null || orderBy.index >= to) throw new ClusterDdlError(`${table} has no ORDER BY to derive a sharding key from; configure one (shardingKeys.${table})`);
    const start = orderBy.index + orderBy[0].length;
    const next = findTopLevel(s, /\b(PARTITION\s+BY|PRIMARY\s+KEY|SAMPLE\s+BY|TTL|SETTINGS|COMMENT|POPULATE)\b/i, start);
    let key = s.text.slice(start, Math.min(next === null ? to : next.index, to)).trim();
    if (key.startsWith('(') && closingParen(scan(key), 0) === key.length - 1) key = key.slice(1, -1).trim();
    if (key === '' || /^tuple\(\s*\)$/i.test(key)) throw new ClusterDdlError(`${table} is ordered by nothing, so its rows have no deterministic shard; configure one (shardingKeys.${table})`);
    // The whole sort key: rows that merge together (same key) always share a shard.
    return `cityHash64(${key})`;
  };

  const distributed = (prefix: string, name: TableName, key: string) =>
    `${prefix}${name.text}${onCluster} AS ${name.withSuffix(LOCAL_TABLE_SUFFIX)} ENGINE = Distributed('${options.name}', ${database}, ${name.withSuffix(LOCAL_TABLE_SUFFIX)}, ${key})`;

  /** The top-level `ENGINE = X(args)` from `from`: its span, engine and arguments. */
  const engineClause = (s: Scanned, from: number) => {
    const m = findTopLevel(s, /\bENGINE\s*=\s*([A-Za-z][A-Za-z0-9_]*)/i, from);
    if (m === null) return null;
    const nameEnd = m.index + m[0].length;
    const open = /^\s*\(/.exec(s.masked.slice(nameEnd));
    const argsStart = open === null ? nameEnd : nameEnd + open[0].length - 1;
    const end = open === null ? nameEnd : closingParen(s, argsStart) + 1;
    return { start: m.index, end, engine: m[1] as string, args: open === null ? '' : s.text.slice(argsStart + 1, end - 1) };
  };

  function createTable(s: Scanned, head: Named): string[] {
    const { name, nameStart, nameEnd } = head;
    const plain = () => [`${s.text.slice(0, nameEnd)}${onCluster}${s.text.slice(nameEnd)}`];
    const engine = engineClause(s, nameEnd);
    if (engine === null) {
      const as = new RegExp(`\\s+AS\\s+(${NAME})`, 'iy');
      as.lastIndex = nameEnd;
      const source = named(s, as.exec(s.masked));
      if (source !== null && split.has(source.name.table)) throw new ClusterDdlError(`CREATE TABLE ${name.table} AS ${source.name.table}, a sharded table: write the engine out, so the renderer can place the new table`);
      return plain();
    }
    if (!MERGE_TREE_FAMILY.test(engine.engine)) return plain();
    if (findTopLevel(s, /\bAS\s+(SELECT|WITH)\b/i, engine.end) !== null) throw new ClusterDdlError(`CREATE TABLE ${name.table} ... AS SELECT would fill every node with the same rows; create the table, then INSERT ... SELECT`);
    const everyNode = REPLICATED_ON_EVERY_NODE.includes(name.table);
    const localName = everyNode ? name.text : name.withSuffix(LOCAL_TABLE_SUFFIX);
    const tail = replaceInCode(s.text.slice(engine.end), DEDUP_SETTING, 'replicated_deduplication_window');
    const storage = `${s.text.slice(0, nameStart)}${localName}${onCluster}${s.text.slice(nameEnd, engine.start)}ENGINE = ${replicatedEngine(engine.engine, engine.args, tableName(localName).table, everyNode)}${tail}`;
    if (everyNode) return [storage];
    const key = shardingKey(name.table, s, engine.end, s.text.length);
    split.add(name.table);
    const m = head.match;
    return [storage, distributed(`CREATE ${m[1] ? 'OR REPLACE ' : ''}TABLE ${m[2] ? 'IF NOT EXISTS ' : ''}`, name, key)];
  }

  function createMaterializedView(s: Scanned, head: Named): string[] {
    const { name, nameStart, nameEnd } = head;
    const as = findTopLevel(s, /\bAS(?=\s*(SELECT|WITH|\())/i, nameEnd);
    if (as === null) throw new ClusterDdlError(`materialized view ${name.table} has no AS SELECT`);
    // The view triggers on inserts into the first table it reads: on a cluster, the local one.
    const query = localizeSource(s.text.slice(as.index));
    const to = named(s, findTopLevel(s, new RegExp(`\\bTO\\s+(${NAME})`, 'i'), nameEnd));
    if (to !== null && to.nameEnd <= as.index) {
      return [`${s.text.slice(0, nameEnd)}${onCluster}${s.text.slice(nameEnd, to.nameStart)}${local(to.name)}${s.text.slice(to.nameEnd, as.index)}${query}`];
    }
    const engine = engineClause(s, nameEnd);
    if (engine === null || engine.start > as.index || !MERGE_TREE_FAMILY.test(engine.engine)) {
      return [`${s.text.slice(0, nameEnd)}${onCluster}${s.text.slice(nameEnd, as.index)}${query}`];
    }
    // A view with its own storage is stored per shard like a table, and read through a Distributed table of its name.
    const localName = name.withSuffix(LOCAL_TABLE_SUFFIX);
    const key = shardingKey(name.table, s, engine.end, as.index);
    const settings = replaceInCode(s.text.slice(engine.end, as.index), DEDUP_SETTING, 'replicated_deduplication_window');
    const view = `${s.text.slice(0, nameStart)}${localName}${onCluster}${s.text.slice(nameEnd, engine.start)}ENGINE = ${replicatedEngine(engine.engine, engine.args, tableName(localName).table, false)}${settings}${query}`;
    split.add(name.table);
    return [view, distributed(`CREATE TABLE ${head.match[1] ? 'IF NOT EXISTS ' : ''}`, name, key)];
  }

  /** The view's query with its first source table (the one whose inserts trigger it) made local. */
  function localizeSource(query: string): string {
    const q = scan(query);
    const from = new RegExp(`\\bFROM\\s+(${NAME})`, 'gi');
    for (let m = from.exec(q.masked); m !== null; m = from.exec(q.masked)) {
      const source = named(q, m) as Named;
      // Tables it joins stay Distributed: a join must see every shard's rows.
      if (split.has(source.name.table)) return `${query.slice(0, source.nameStart)}${local(source.name)}${query.slice(source.nameEnd)}`;
    }
    return query;
  }

  function alterTable(s: Scanned, head: Named): string[] {
    const { name, nameStart, nameEnd } = head;
    if (!split.has(name.table)) return [`${s.text.slice(0, nameEnd)}${onCluster}${s.text.slice(nameEnd)}`];
    const commands = replaceInCode(s.text.slice(nameEnd), DEDUP_SETTING, 'replicated_deduplication_window');
    const storage = `${s.text.slice(0, nameStart)}${local(name)}${onCluster}${commands}`;
    // Column changes also apply to the Distributed table (it has the columns); the rest
    // (TTL, indexes, settings, mutations) concerns storage, which only the local tables have.
    const columns = alterCommands(scan(commands)).filter((command) => /^(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b/i.test(command));
    return columns.length === 0 ? [storage] : [storage, `ALTER TABLE ${name.text}${onCluster} ${columns.join(', ')}`];
  }

  function dropTable(s: Scanned, head: Named): string[] {
    const { name, nameStart, nameEnd } = head;
    if (!split.has(name.table)) return [`${s.text.slice(0, nameEnd)}${onCluster}${s.text.slice(nameEnd)}`];
    const rest = s.text.slice(nameEnd);
    const storage = `${s.text.slice(0, nameStart)}${local(name)}${onCluster}${rest}`;
    split.delete(name.table);
    // The Distributed table first, so nothing reads through it into a local table already gone.
    return [`DROP TABLE ${head.match[2] ? 'IF EXISTS ' : ''}${name.text}${onCluster}${rest}`, storage];
  }

  /** A statement about a table's storage (TRUNCATE, OPTIMIZE): run on the local tables. */
  function storageStatement(s: Scanned, head: Named): string[] {
    return [`${s.text.slice(0, head.nameStart)}${local(head.name)}${onCluster}${s.text.slice(head.nameEnd)}`];
  }

  return {
    options,
    render(statement: string): string[] {
      const s = scan(statement);
      if (findTopLevel(s, /\bON\s+CLUSTER\b/i) !== null) throw new ClusterDdlError(`migrations are written for one server, and this statement already says ON CLUSTER: ${excerpt(statement)}`);
      const at = statementStart(s);
      const head = (pattern: string) => {
        const re = new RegExp(pattern, 'iy');
        re.lastIndex = at;
        return re.exec(s.masked);
      };
      let m: Named | null;
      if ((m = named(s, head(`CREATE\\s+(OR\\s+REPLACE\\s+)?TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`)))) return createTable(s, m);
      if ((m = named(s, head(`CREATE\\s+MATERIALIZED\\s+VIEW\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`)))) return createMaterializedView(s, m);
      if ((m = named(s, head(`CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:VIEW|DICTIONARY|FUNCTION|DATABASE)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(${NAME})`)))) {
        return [`${statement.slice(0, m.nameEnd)}${onCluster}${statement.slice(m.nameEnd)}`];
      }
      if ((m = named(s, head(`ALTER\\s+TABLE\\s+(${NAME})`)))) return alterTable(s, m);
      if ((m = named(s, head(`DROP\\s+(TABLE|VIEW|DICTIONARY)\\s+(IF\\s+EXISTS\\s+)?(${NAME})`)))) return dropTable(s, m);
      if ((m = named(s, head(`(?:TRUNCATE\\s+(?:TABLE\\s+)?(?:IF\\s+EXISTS\\s+)?|OPTIMIZE\\s+TABLE\\s+)(${NAME})`)))) return storageStatement(s, m);
      if (head('RENAME\\s+TABLE\\s')) {
        const sharded = [...s.masked.matchAll(new RegExp(NAME, 'g'))].map((n) => tableName(statement.slice(n.index, n.index + n[0].length)).table).find((n) => split.has(n));
        if (sharded !== undefined) throw new ClusterDdlError(`RENAME of ${sharded}, a sharded table, would leave its Distributed table pointing at the old local name; create a new table and copy instead`);
        return [`${statement.trimEnd()}${onCluster}`];
      }
      // Data, not DDL: runs once, through the Distributed tables.
      if (head('INSERT\\s+INTO\\s')) return [statement];
      throw new ClusterDdlError(`no cluster form is known for this statement (extend storage/schema/cluster.ts): ${excerpt(statement)}`);
    },
  };
}

/** ALTER commands split at the commas between commands (not those inside one, e.g. MODIFY SETTING a = 1, b = 2). */
function alterCommands(s: Scanned): string[] {
  const commands: string[] = [];
  let start = 0;
  const separator = /,\s*(?=(ADD|DROP|MODIFY|RENAME|COMMENT|CLEAR|MATERIALIZE|UPDATE|DELETE|FREEZE|UNFREEZE|ATTACH|DETACH|MOVE|REPLACE|FETCH|REMOVE|RESET|APPLY)\s)/gi;
  for (let m = findTopLevel(s, separator); m !== null; m = findTopLevel(s, separator, m.index + 1)) {
    commands.push(s.text.slice(start, m.index).trim());
    start = m.index + 1;
  }
  commands.push(s.text.slice(start).trim());
  return commands.filter((c) => c !== '');
}

/** The migrations as they run on the cluster: same ids and names, statements rendered in order. */
export function renderMigrationsForCluster(migrations: readonly Migration[], cluster: string | ClusterOptions, renderer: ClusterRenderer = createClusterRenderer(cluster)): Migration[] {
  return migrations.map((migration) => ({ ...migration, statements: migration.statements.flatMap((statement) => renderer.render(statement)) }));
}
