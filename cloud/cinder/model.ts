/** Cinder's objects as we keep them (the columns of cinder's own tables that matter to clients and meters). */

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  extra_specs: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  deleted: boolean;
  deleted_at: string | null;
}

/** Where a volume is attached; cinder's volume_attachment rows. */
export type AttachStatus = 'detached' | 'attaching' | 'attached' | 'detaching' | 'error_attaching' | 'error_detaching';

export interface Volume {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attach_status: AttachStatus;
  previous_status: string | null;
  volume_type_id: string;
  availability_zone: string;
  host: string | null;
  bootable: boolean;
  multiattach: boolean;
  readonly: boolean;
  snapshot_id: string | null;
  source_volid: string | null;
  image_id: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  launched_at: string | null;
  terminated_at: string | null;
  deleted: boolean;
  deleted_at: string | null;
}

export interface VolumeAttachment {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: string;
  attach_status: AttachStatus;
  attach_time: string | null;
  detach_time: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: boolean;
  deleted_at: string | null;
}

export interface Snapshot {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  name: string | null;
  description: string | null;
  status: string;
  progress: string;
  volume_size: number;
  volume_type_id: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string | null;
  deleted: boolean;
  deleted_at: string | null;
}

export interface Backup {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  name: string | null;
  description: string | null;
  status: string;
  size: number;
  object_count: number;
  container: string | null;
  availability_zone: string | null;
  host: string | null;
  service: string | null;
  service_metadata: string | null;
  fail_reason: string | null;
  parent_id: string | null;
  metadata: Record<string, string>;
  data_timestamp: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: boolean;
  deleted_at: string | null;
}

/** The attached-server view Nova needs for os-volume_attachments and `volumes_attached`. */
export interface ServerVolume {
  volumeId: string;
  attachmentId: string;
  device: string | null;
  host: string | null;
}
