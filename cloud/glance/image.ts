/** Glance's image domain model (glance/domain/__init__.py), as the service stores it. */

export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export type ImageStatus = 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'uploading' | 'importing' | 'pending_delete' | 'deactivated';

/** The status changes glance's Image.status setter allows (valid_state_targets). */
export const STATUS_TARGETS: Readonly<Record<ImageStatus, readonly ImageStatus[]>> = {
  queued: ['saving', 'uploading', 'importing', 'active', 'deleted'],
  saving: ['active', 'killed', 'deleted', 'queued'],
  uploading: ['importing', 'queued', 'deleted'],
  importing: ['active', 'deleted', 'queued'],
  active: ['pending_delete', 'deleted', 'deactivated'],
  killed: ['deleted'],
  pending_delete: ['deleted', 'active'],
  deleted: [],
  deactivated: ['active', 'deleted'],
};

export interface Image {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  /** Project id of the owner. */
  owner: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  protected: boolean;
  os_hidden: boolean;
  tags: string[];
  /** Custom properties (os_distro, hw_*, ...); glance's API shows them as top-level fields. */
  properties: Record<string, string | null>;
  /** ISO 8601 with milliseconds; the API and notifications show seconds. */
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Attributes of the image itself, as opposed to custom properties (glance's hasattr(image, name)). */
export const IMAGE_ATTRIBUTES: readonly string[] = [
  'id', 'name', 'status', 'visibility', 'owner', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value',
  'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected', 'os_hidden', 'tags', 'created_at', 'updated_at',
];

/** Who is asking: admins see every image, others their project's, public and community ones. */
export interface Viewer {
  isAdmin: boolean;
  projectId: string | null;
}

/** Glance's is_image_visible without image members: a shared image is seen by its owner only. */
export function isVisible(image: Pick<Image, 'owner' | 'visibility'>, viewer: Viewer): boolean {
  if (viewer.isAdmin) return true;
  if (image.visibility === 'public' || image.visibility === 'community') return true;
  return viewer.projectId !== null && image.owner === viewer.projectId;
}

/** glance's timeutils.isotime: seconds, `Z`. */
export const isoSeconds = (iso: string): string => `${iso.slice(0, 19)}Z`;
