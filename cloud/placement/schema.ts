import { isUuidLike } from './query-params.ts';

/**
 * The subset of JSON Schema Placement's request schemas use (placement/schemas/*.py), so
 * they can be transcribed as they are and refuse what Placement refuses, with
 * python-jsonschema's messages.
 */
export interface Schema {
  type?: SchemaType | readonly SchemaType[];
  properties?: Readonly<Record<string, Schema>>;
  patternProperties?: Readonly<Record<string, Schema>>;
  additionalProperties?: false;
  required?: readonly string[];
  minProperties?: number;
  items?: Schema;
  minItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: 'uuid';
  enum?: readonly string[];
  anyOf?: readonly Schema[];
}

type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'null' | 'boolean';

/** Python's repr() of a JSON value, as jsonschema prints instances in its messages. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

const isType = (value: unknown, type: SchemaType): boolean => {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
  }
};

/** The first way `value` breaks `schema`, in jsonschema's words, or null when it conforms. */
export function violation(value: unknown, schema: Schema): string | null {
  if (schema.anyOf && !schema.anyOf.some((s) => violation(value, s) === null)) return `${pyRepr(value)} is not valid under any of the given schemas`;
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => isType(value, t))) return `${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`;
  }
  if (schema.enum && !(typeof value === 'string' && schema.enum.includes(value))) return `${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`;
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${pyRepr(value)} is too short`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${pyRepr(value)} is too long`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`;
    if (schema.format === 'uuid' && !isUuidLike(value)) return `${pyRepr(value)} is not a 'uuid'`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${value} is less than the minimum of ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${value} is greater than the maximum of ${schema.maximum}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${pyRepr(value)} is too short`;
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) return `${pyRepr(value)} has non-unique elements`;
    if (schema.items) {
      for (const item of value) {
        const problem = violation(item, schema.items);
        if (problem) return problem;
      }
    }
  }
  if (isType(value, 'object')) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    for (const key of schema.required ?? []) if (!(key in object)) return `${pyRepr(key)} is a required property`;
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) return `${pyRepr(value)} does not have enough properties`;
    const patterns = Object.entries(schema.patternProperties ?? {});
    if (schema.additionalProperties === false) {
      const extra = keys.filter((k) => !(schema.properties && k in schema.properties) && !patterns.some(([p]) => new RegExp(p).test(k)));
      if (extra.length > 0) {
        if (patterns.length > 0) return `${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'does' : 'do'} not match any of the regexes: ${patterns.map(([p]) => pyRepr(p)).join(', ')}`;
        return `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`;
      }
    }
    for (const key of keys) {
      const own = schema.properties?.[key];
      if (own) {
        const problem = violation(object[key], own);
        if (problem) return problem;
      }
      for (const [pattern, sub] of patterns) {
        if (!new RegExp(pattern).test(key)) continue;
        const problem = violation(object[key], sub);
        if (problem) return problem;
      }
    }
  }
  return null;
}
