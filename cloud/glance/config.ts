/**
 * Glance's settings as the embedded control plane runs it: the defaults of a stock
 * glance-api (glance/common/config.py, glance/notifier.py). Stable.
 */

/** The control exchange glance's oslo.messaging notifier publishes to. */
export const GLANCE_EXCHANGE = 'glance';

/** glance's `default_publisher_id`. */
export const DEFAULT_PUBLISHER_ID = 'image.localhost';

/** `limit_param_default`: images per page when a list request names no limit. */
export const DEFAULT_LIST_LIMIT = 25;

/** `api_limit_max`: the most images one page ever holds, whatever limit is asked. */
export const MAX_LIST_LIMIT = 1000;

/**
 * Visibility of an image created without one. Glance has defaulted to `shared` since
 * Ocata (ImageFactory.new_image); without members a shared image is seen only by its owner.
 */
export const DEFAULT_VISIBILITY = 'shared';

/** `hashing_algorithm`: the multihash glance computes beside the legacy md5 checksum. */
export const HASH_ALGORITHM = 'sha512';

/** `[image_format] disk_formats` default. */
export const DISK_FORMATS: readonly string[] = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];

/** `[image_format] container_formats` default. */
export const CONTAINER_FORMATS: readonly string[] = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];

/** Import methods advertised by `GET /v2/info/import` and the POST header; none, so clients upload with PUT .../file. */
export const IMPORT_METHODS: readonly string[] = [];

/** Image API versions as glance-api lists them without an image cache dir or multiple stores (glance/api/versions.py). */
export const API_VERSIONS: ReadonlyArray<{ id: string; status: 'CURRENT' | 'SUPPORTED' }> = [
  { id: 'v2.15', status: 'SUPPORTED' },
  { id: 'v2.9', status: 'SUPPORTED' },
  { id: 'v2.17', status: 'CURRENT' },
  { id: 'v2.7', status: 'SUPPORTED' },
  { id: 'v2.6', status: 'SUPPORTED' },
  { id: 'v2.5', status: 'SUPPORTED' },
  { id: 'v2.4', status: 'SUPPORTED' },
  { id: 'v2.3', status: 'SUPPORTED' },
  { id: 'v2.2', status: 'SUPPORTED' },
  { id: 'v2.1', status: 'SUPPORTED' },
  { id: 'v2.0', status: 'SUPPORTED' },
];
