import type { Viewer } from './image.ts';
import type { ImageFilters } from './requests.ts';

/** A statement with named parameters (`@name`), bound by better-sqlite3: no value is ever spliced in. */
export interface SqlQuery {
  sql: string;
  params: Record<string, string | number | null>;
}

/** Identifiers a filter may name; anything else never reaches the SQL text. */
const FILTER_COLUMNS = new Set(['name', 'id', 'status', 'container_format', 'disk_format', 'owner', 'checksum', 'os_hash_value', 'os_hash_algo', 'min_ram', 'min_disk', 'size', 'virtual_size', 'protected', 'created_at', 'updated_at']);
const column = (name: string): string => {
  if (!FILTER_COLUMNS.has(name)) throw new Error(`glance: ${name} is not a filterable image column`);
  return name;
};

const COMPARISONS: Readonly<Record<string, string>> = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** A live (not deleted) image by id, whoever owns it. */
export const imageById = (id: string): SqlQuery => ({ sql: 'SELECT * FROM glance_images WHERE id = @id AND deleted = 0', params: { id } });

/** Any image ever created with this id, deleted ones too: glance never reuses an id. */
export const idTaken = (id: string): SqlQuery => ({ sql: 'SELECT 1 FROM glance_images WHERE id = @id', params: { id } });

/**
 * The images a viewer lists, as glance's _image_get_all selects them: regular users
 * see public and community images and their own; with no visibility filter,
 * community images appear only to their owner; admins see everything; killed and
 * deleted images never appear. Sorting and the marker are applied by the caller.
 */
export function listImages(viewer: Viewer, filters: ImageFilters): SqlQuery {
  const where: string[] = ['deleted = 0', "status != 'killed'"];
  const params: SqlQuery['params'] = { project: viewer.projectId, admin: viewer.isAdmin ? 1 : 0, hidden: filters.osHidden ? 1 : 0 };
  where.push("(@admin = 1 OR visibility IN ('public', 'community') OR owner = @project)");
  if (filters.visibility === null) where.push("(owner = @project OR visibility != 'community')");
  else if (filters.visibility !== 'all') {
    where.push('visibility = @visibility');
    params.visibility = filters.visibility;
  }
  where.push('os_hidden = @hidden');
  let n = 0;
  const param = (value: string | number): string => {
    const name = `p${n++}`;
    params[name] = value;
    return `@${name}`;
  };
  for (const { column: name, values } of filters.attributes) where.push(`${column(name)} IN (${values.map(param).join(', ')})`);
  for (const { column: name, value } of filters.equals) where.push(`${column(name)} = ${param(value)}`);
  for (const { column: name, op, value } of filters.ranges) where.push(`${column(name)} ${COMPARISONS[op]} ${param(value)}`);
  for (const { column: name, op, value } of filters.times) where.push(`${column(name)} ${COMPARISONS[op]} ${param(value)}`);
  for (const tag of filters.tags) where.push(`EXISTS (SELECT 1 FROM json_each(glance_images.tags) WHERE value = ${param(tag)})`);
  for (const [key, value] of Object.entries(filters.properties)) where.push(`json_extract(properties, ${param(`$."${key.replace(/"/g, '\\"')}"`)}) = ${param(value)}`);
  return { sql: `SELECT * FROM glance_images WHERE ${where.join(' AND ')}`, params };
}
