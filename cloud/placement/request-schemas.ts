import { MAX_INT, SQL_SP_FLOAT_MAX } from './config.ts';
import type { Schema } from './schema.ts';

/** Placement's request body schemas (placement/schemas/*.py), per microversion. */

const UUID_PATTERN = '^[0-9a-fA-F-]{36}$';
export const RC_PATTERN = '^[A-Z0-9_]+$';
export const CUSTOM_PATTERN = '^CUSTOM_[A-Z0-9_]+$';
const GROUP_PAT_1_33 = '[a-zA-Z0-9_-]{1,64}';

const uuid: Schema = { type: 'string', format: 'uuid' };
const nullableUuid: Schema = { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };

export const POST_PROVIDER: Schema = { type: 'object', properties: { name: { type: 'string', maxLength: 200 }, uuid }, required: ['name'], additionalProperties: false };
export const POST_PROVIDER_1_14: Schema = { ...POST_PROVIDER, properties: { ...POST_PROVIDER.properties, parent_provider_uuid: nullableUuid } };
export const PUT_PROVIDER: Schema = { type: 'object', properties: { name: { type: 'string', maxLength: 200 } }, required: ['name'], additionalProperties: false };
export const PUT_PROVIDER_1_14: Schema = { ...PUT_PROVIDER, properties: { ...PUT_PROVIDER.properties, parent_provider_uuid: nullableUuid } };

const inventoryFields: Record<string, Schema> = {
  total: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  reserved: { type: 'integer', maximum: MAX_INT, minimum: 0 },
  min_unit: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  max_unit: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  step_size: { type: 'integer', maximum: MAX_INT, minimum: 1 },
  allocation_ratio: { type: 'number', maximum: SQL_SP_FLOAT_MAX },
};
export const PUT_INVENTORY: Schema = {
  type: 'object',
  properties: { resource_provider_generation: { type: 'integer' }, ...inventoryFields },
  required: ['total', 'resource_provider_generation'],
  additionalProperties: false,
};
export const POST_INVENTORY: Schema = {
  type: 'object',
  properties: { resource_provider_generation: { type: 'integer' }, ...inventoryFields, resource_class: { type: 'string', pattern: RC_PATTERN } },
  required: ['total', 'resource_class'],
  additionalProperties: false,
};
export const PUT_INVENTORIES: Schema = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: { type: 'object', patternProperties: { [RC_PATTERN]: { type: 'object', properties: { resource_provider_generation: { type: 'integer' }, ...inventoryFields }, required: ['total'], additionalProperties: false } } },
  },
  required: ['resource_provider_generation', 'inventories'],
  additionalProperties: false,
};

export const RESOURCE_CLASS: Schema = { type: 'object', properties: { name: { type: 'string', pattern: CUSTOM_PATTERN, maxLength: 255 } }, required: ['name'], additionalProperties: false };

export const CUSTOM_TRAIT: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: CUSTOM_PATTERN };
export const SET_PROVIDER_TRAITS: Schema = {
  type: 'object',
  properties: { traits: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } }, resource_provider_generation: { type: 'integer' } },
  required: ['traits', 'resource_provider_generation'],
  additionalProperties: false,
};

const aggregateList: Schema = { type: 'array', items: uuid, uniqueItems: true };
export const PUT_AGGREGATES_1_1: Schema = aggregateList;
export const PUT_AGGREGATES_1_19: Schema = {
  type: 'object',
  properties: { aggregates: aggregateList, resource_provider_generation: { type: 'integer' } },
  required: ['aggregates', 'resource_provider_generation'],
  additionalProperties: false,
};

const resources: Schema = { type: 'object', minProperties: 1, patternProperties: { [RC_PATTERN]: { type: 'integer', minimum: 1 } }, additionalProperties: false };
const idField: Schema = { type: 'string', minLength: 1, maxLength: 255 };

/** PUT /allocations/{uuid} before 1.8: a list of {resource_provider: {uuid}, resources}. */
export const ALLOCATION_1_0: Schema = {
  type: 'object',
  properties: {
    allocations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: { resource_provider: { type: 'object', properties: { uuid }, additionalProperties: false, required: ['uuid'] }, resources },
        required: ['resource_provider', 'resources'],
        additionalProperties: false,
      },
    },
  },
  required: ['allocations'],
  additionalProperties: false,
};
export const ALLOCATION_1_8: Schema = { ...ALLOCATION_1_0, properties: { ...ALLOCATION_1_0.properties, project_id: idField, user_id: idField }, required: ['allocations', 'project_id', 'user_id'] };

const allocationsDict = (minProperties: number): Schema => ({
  type: 'object',
  minProperties,
  patternProperties: { [UUID_PATTERN]: { type: 'object', properties: { generation: { type: 'integer' }, resources }, required: ['resources'], additionalProperties: false } },
  additionalProperties: false,
});
/** From 1.12 the dict form GET returns. */
export const ALLOCATION_1_12: Schema = { type: 'object', properties: { allocations: allocationsDict(1), project_id: idField, user_id: idField }, additionalProperties: false, required: ['allocations', 'project_id', 'user_id'] };
const DELETABLE: Schema = { ...ALLOCATION_1_12, properties: { ...ALLOCATION_1_12.properties, allocations: allocationsDict(0) } };
const consumerGeneration: Schema = { type: ['integer', 'null'] };
export const ALLOCATION_1_28: Schema = { ...DELETABLE, properties: { ...DELETABLE.properties, consumer_generation: consumerGeneration }, required: [...(DELETABLE.required ?? []), 'consumer_generation'] };
const mappings: Schema = { type: 'object', minProperties: 1, patternProperties: { [GROUP_PAT_1_33]: { type: 'array', minItems: 1, items: uuid } } };
export const ALLOCATION_1_34: Schema = { ...ALLOCATION_1_28, properties: { ...ALLOCATION_1_28.properties, mappings } };
export const ALLOCATION_1_38: Schema = {
  ...ALLOCATION_1_34,
  properties: { ...ALLOCATION_1_34.properties, consumer_type: { type: 'string', pattern: RC_PATTERN, minLength: 1, maxLength: 255 } },
  required: [...(ALLOCATION_1_34.required ?? []), 'consumer_type'],
};

const postOf = (each: Schema): Schema => ({ type: 'object', minProperties: 1, additionalProperties: false, patternProperties: { [UUID_PATTERN]: each } });
export const POST_ALLOCATIONS_1_13 = postOf(DELETABLE);
export const POST_ALLOCATIONS_1_28 = postOf(ALLOCATION_1_28);
export const POST_ALLOCATIONS_1_34 = postOf(ALLOCATION_1_34);
export const POST_ALLOCATIONS_1_38 = postOf(ALLOCATION_1_38);
