/** Configuration of the meter mapper; the defaults are Ceilometer's. Stable. */

/** Ceilometer's `sample_source`: the source of every sample this collector emits. */
export const DEFAULT_SAMPLE_SOURCE = 'openstack';

/** Ceilometer's `reserved_metadata_namespace`: user metadata keys under these prefixes become `user_metadata`. */
export const DEFAULT_RESERVED_METADATA_NAMESPACES: readonly string[] = ['metering.'];

/** Ceilometer's `reserved_metadata_keys`: further user metadata keys copied whole. */
export const DEFAULT_RESERVED_METADATA_KEYS: readonly string[] = [];

/** Ceilometer's `reserved_metadata_length`: string values of user metadata are cut to this many characters. */
export const DEFAULT_RESERVED_METADATA_LENGTH_CHARS = 256;

export interface ReservedMetadataConfig {
  namespaces: readonly string[];
  keys: readonly string[];
  maxLengthChars: number;
}

export const DEFAULT_RESERVED_METADATA: ReservedMetadataConfig = {
  namespaces: DEFAULT_RESERVED_METADATA_NAMESPACES,
  keys: DEFAULT_RESERVED_METADATA_KEYS,
  maxLengthChars: DEFAULT_RESERVED_METADATA_LENGTH_CHARS,
};
