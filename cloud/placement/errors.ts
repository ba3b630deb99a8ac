import { CloudApiError } from '../errors.ts';

/**
 * Placement's error codes (placement/errors.py): the `code` of an error body from
 * microversion 1.23 on. Clients such as nova's report client branch on them.
 */
export const PLACEMENT_CODE = {
  DEFAULT: 'placement.undefined_code',
  INVENTORY_INUSE: 'placement.inventory.inuse',
  CONCURRENT_UPDATE: 'placement.concurrent_update',
  DUPLICATE_NAME: 'placement.duplicate_name',
  PROVIDER_IN_USE: 'placement.resource_provider.inuse',
  PROVIDER_CANNOT_DELETE_PARENT: 'placement.resource_provider.cannot_delete_parent',
  RESOURCE_PROVIDER_NOT_FOUND: 'placement.resource_provider.not_found',
  ILLEGAL_DUPLICATE_QUERYPARAM: 'placement.query.duplicate_key',
  QUERYPARAM_BAD_VALUE: 'placement.query.bad_value',
  QUERYPARAM_MISSING_VALUE: 'placement.query.missing_value',
} as const;

export type PlacementCode = (typeof PLACEMENT_CODE)[keyof typeof PLACEMENT_CODE];

/**
 * A refusal by Placement. `message` is the detail Placement writes (what was expected and
 * what came); `placementCode` is its API error code; `code` is ours (CUMULUS_PLACEMENT_*).
 */
export class PlacementError extends CloudApiError {
  readonly placementCode: PlacementCode;

  constructor(code: string, httpStatus: number, message: string, placementCode: PlacementCode = PLACEMENT_CODE.DEFAULT) {
    super(code, httpStatus, message);
    this.name = 'PlacementError';
    this.placementCode = placementCode;
  }
}

/**
 * An allocation refused because it does not fit: capacity `(total - reserved) *
 * allocation_ratio` exceeded, min_unit/max_unit/step_size violated, or no such inventory.
 * Nova's scheduler treats it as "pick another candidate".
 */
export class AllocationConflictError extends PlacementError {
  constructor(
    message: string,
    readonly resourceClass: string,
    readonly resourceProvider: string,
  ) {
    super('CUMULUS_PLACEMENT_CAPACITY_EXCEEDED', 409, `Unable to allocate inventory: ${message}`);
    this.name = 'AllocationConflictError';
  }
}

export const badRequest = (detail: string, placementCode?: PlacementCode) => new PlacementError('CUMULUS_PLACEMENT_BAD_REQUEST', 400, detail, placementCode);
export const notFound = (detail: string, placementCode?: PlacementCode) => new PlacementError('CUMULUS_PLACEMENT_NOT_FOUND', 404, detail, placementCode);
export const conflict = (detail: string, placementCode?: PlacementCode) => new PlacementError('CUMULUS_PLACEMENT_CONFLICT', 409, detail, placementCode);
/** A generation (resource provider or consumer) did not match: re-read and retry. */
export const concurrentUpdate = (detail: string) => new PlacementError('CUMULUS_PLACEMENT_CONCURRENT_UPDATE', 409, detail, PLACEMENT_CODE.CONCURRENT_UPDATE);
export const forbidden = (action: string) => new PlacementError('CUMULUS_CLOUD_FORBIDDEN', 403, `Policy does not allow ${action} to be performed.`);
