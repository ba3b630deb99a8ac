/**
 * The rating contract shared by the pipeline (which rates usage) and the API (quotes,
 * reports, statements). Money and quantities cross it as decimal TEXT ("12.345000000"),
 * never as binary floats; arithmetic on them uses decimal.js (see ./money.ts).
 */

/** One resource's use of one rated service over one period, as extracted from the metering data. */
export interface UsageFrame {
  /** CloudKitty's service (its metric name): `instance`, `volume.size`, `ip.floating`, `image.size`, ... */
  readonly service: string;
  readonly projectId: string;
  readonly userId: string;
  readonly resourceId: string;
  /** Gnocchi resource type of the resource (instance, volume, image, ...). */
  readonly resourceType: string;
  readonly periodStart: Date;
  readonly periodEnd: Date;
  /** Decimal text, in `unit` (e.g. instance-hours, GiB-hours). */
  readonly quantity: string;
  readonly unit: string;
  /** What hashmap fields match on: flavor_id, flavor_name, vcpus, ram, image_id, os_distro, volume_type, ... */
  readonly metadata: Readonly<Record<string, string>>;
  /** What reports group by: project_id, user_id, id, stack_id, and operator tags (`tag:<name>`). */
  readonly groupby: Readonly<Record<string, string>>;
}

/** A priced frame: one row of `rated_usage`. */
export interface RatedFrame extends UsageFrame {
  /** Decimal text: the unit price that applied (cost / quantity, or the flat price). */
  readonly price: string;
  /** Decimal text, rounded by the documented rule (./money.ts). */
  readonly cost: string;
  readonly currency: string;
  /** The hashmap mapping(s) or threshold(s) that priced it, for audit. */
  readonly ruleId: string;
}

/** Prices frames with the rules in force at the frame's period. */
export interface Rater {
  /** Null when no rule prices the frame's service (it is then not rated, and not stored). */
  rate(frame: UsageFrame): RatedFrame | null;
}
