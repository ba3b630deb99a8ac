import { CONTAINER_FORMATS, DISK_FORMATS } from './config.ts';

/** The subset of JSON Schema glance's image schema uses. */
export interface PropertySchema {
  type?: string | readonly string[];
  description?: string;
  enum?: ReadonlyArray<string | null>;
  maxLength?: number;
  pattern?: string;
  readOnly?: boolean;
  items?: PropertySchema;
  /** false on the custom properties: glanceclient then patches them with add/remove, not replace. */
  is_base?: boolean;
}

const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

/** glance/api/v2/images.py get_base_properties(), without the location properties we do not serve. */
export const BASE_PROPERTIES: Readonly<Record<string, PropertySchema>> = {
  id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
  name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
  status: {
    type: 'string',
    readOnly: true,
    description: 'Status of the image',
    enum: ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'],
  },
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: ['community', 'public', 'private', 'shared'] },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: { type: ['null', 'string'], readOnly: true, description: 'md5 hash of image contents.', maxLength: 32 },
  os_hash_algo: { type: ['null', 'string'], readOnly: true, description: 'Algorithm to calculate the os_hash_value', maxLength: 64 },
  os_hash_value: { type: ['null', 'string'], readOnly: true, description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', maxLength: 128 },
  owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
  container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...CONTAINER_FORMATS] },
  disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
  created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
  updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
  direct_url: { type: 'string', readOnly: true, description: 'URL to access the image file kept in external store' },
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: { type: 'string', readOnly: true, description: 'An image self url' },
  file: { type: 'string', readOnly: true, description: 'An image file url' },
  stores: { type: 'string', readOnly: true, description: 'Store in which image data resides.' },
  schema: { type: 'string', readOnly: true, description: 'An image schema url' },
};

/** The custom properties a stock deployment loads from etc/schema-image.json; glance's get_schema marks them `is_base: false`. */
export const CUSTOM_PROPERTIES: Readonly<Record<string, PropertySchema>> = {
  kernel_id: { is_base: false, type: ['null', 'string'], pattern: UUID_PATTERN, description: 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.' },
  ramdisk_id: { is_base: false, type: ['null', 'string'], pattern: UUID_PATTERN, description: 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.' },
  instance_uuid: { is_base: false, type: 'string', description: 'Metadata which can be used to record which instance this image is associated with.' },
  architecture: { is_base: false, type: 'string', description: 'Operating system architecture' },
  os_distro: { is_base: false, type: 'string', description: 'Common name of operating system distribution' },
  os_version: { is_base: false, type: 'string', description: 'Operating system version as specified by the distributor.' },
  description: { is_base: false, type: 'string', description: 'A human-readable string describing this image.' },
  cinder_encryption_key_id: { is_base: false, type: 'string', description: 'Identifier in the OpenStack Key Management Service for the encryption key' },
  cinder_encryption_key_deletion_policy: { is_base: false, type: 'string', description: "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id' image property.", enum: ['on_image_deletion', 'do_not_delete'] },
};

const PROPERTIES: Readonly<Record<string, PropertySchema>> = { ...BASE_PROPERTIES, ...CUSTOM_PROPERTIES };

/** Any property the schema does not name must be a string (glance's PermissiveSchema). */
const ADDITIONAL: PropertySchema = { type: 'string' };

/** `GET /v2/schemas/image`: what glance.schema.PermissiveSchema('image', ...).raw() returns. */
export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: PROPERTIES,
    additionalProperties: ADDITIONAL,
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** `GET /v2/schemas/images`: glance.schema.CollectionSchema('images', image schema).raw(). */
export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** A value as Python's repr() shows it, because glance's messages come from jsonschema in Python. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return String(value);
}

const typeMatches = (type: string, value: unknown): boolean => {
  switch (type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return false;
  }
};

/** The first way `value` breaks `schema`, worded like jsonschema's ValidationError, or null. */
function violation(schema: PropertySchema, value: unknown, where: string): string | null {
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => typeMatches(t, value))) {
      return `${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}\n\nFailed validating 'type' in ${where}`;
    }
  }
  if (schema.enum && !schema.enum.includes(value as string | null)) {
    return `${pyRepr(value)} is not one of ${pyRepr(schema.enum)}\n\nFailed validating 'enum' in ${where}`;
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return `${pyRepr(value)} is too long\n\nFailed validating 'maxLength' in ${where}`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${pyRepr(value)} does not match '${schema.pattern}'\n\nFailed validating 'pattern' in ${where}`;
  }
  if (Array.isArray(value) && schema.items) {
    for (const item of value) {
      const found = violation(schema.items, item, `${where}['items']`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Validates an image body (or the one-property partial image a PATCH change makes)
 * against the image schema; returns why it does not match, or null when it does.
 */
export function imageViolation(image: Readonly<Record<string, unknown>>): string | null {
  for (const [key, value] of Object.entries(image)) {
    const known = Object.hasOwn(PROPERTIES, key) ? PROPERTIES[key] : undefined;
    const found = known ? violation(known, value, `schema['properties']['${key}']`) : violation(ADDITIONAL, value, "schema['additionalProperties']");
    if (found) return found;
  }
  return null;
}
