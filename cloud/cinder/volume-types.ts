import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/index.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { RequestContext } from '../notifier.ts';
import { DEFAULT_VOLUME_TYPE_NAME } from './config.ts';
import { invalidInput, policyNotAuthorized, volumeTypeExists, volumeTypeNotFound, volumeTypeNotFoundByName } from './errors.ts';
import type { Volume, VolumeType } from './model.ts';
import type { CinderStore } from './store.ts';
import { UUID_LIKE, checkMetadata, optionalText, parseBool } from './validation.ts';

/** Extra specs a non-admin may read (cinder/policies/type_extra_specs.py USER_VISIBLE_EXTRA_SPECS). */
export const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

/** Volume types: admins manage them; private ones exist only for admins and the projects given access. */
export class VolumeTypes {
  constructor(
    private readonly store: CinderStore,
    private readonly clock: Clock,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  /** Creates the default volume type, as Cinder's database migrations do. Idempotent. */
  bootstrap(): void {
    if (this.store.typeByName(DEFAULT_VOLUME_TYPE_NAME)) return;
    this.store.insertType({
      id: randomUUID(),
      name: DEFAULT_VOLUME_TYPE_NAME,
      description: 'Default Volume Type',
      is_public: true,
      extra_specs: {},
      created_at: this.now(),
      updated_at: null,
      deleted: false,
      deleted_at: null,
    });
  }

  /** Types a caller may list: members see public ones and the private ones their project was given; admins choose with is_public (absent: public; "None": all). */
  list(context: RequestContext, isPublic: string | undefined): VolumeType[] {
    if (!context.isAdmin) return this.store.listTypes(true, context.projectId);
    if (isPublic === undefined) return this.store.listTypes(true);
    if (isPublic.toLowerCase() === 'none') return this.store.listTypes(null);
    const parsed = parseBool(isPublic);
    if (parsed === undefined) throw badRequest(`Invalid is_public filter [${isPublic}]`);
    return this.store.listTypes(parsed);
  }

  defaultType(): VolumeType {
    const type = this.store.typeByName(DEFAULT_VOLUME_TYPE_NAME);
    if (!type) throw volumeTypeNotFound('default');
    return type;
  }

  private visible(type: VolumeType, context: RequestContext): boolean {
    return type.is_public || context.isAdmin || (context.projectId !== null && this.store.typeAccess(type.id).includes(context.projectId));
  }

  /** A type by id (or `default`). */
  get(id: string, context: RequestContext): VolumeType {
    if (id === 'default') return this.defaultType();
    const type = this.store.typeById(id);
    if (!type || !this.visible(type, context)) throw volumeTypeNotFound(id);
    return type;
  }

  /** objects.VolumeType.get_by_name_or_id: a UUID is looked up as an id, anything else as a name. */
  byNameOrId(identity: string, context: RequestContext): VolumeType {
    const type = UUID_LIKE.test(identity) ? this.store.typeById(identity) : this.store.typeByName(identity);
    if (!type || !this.visible(type, context)) throw UUID_LIKE.test(identity) ? volumeTypeNotFound(identity) : volumeTypeNotFoundByName(identity);
    return type;
  }

  /** A volume's type, even when it was deleted since (the volume keeps it). */
  of(volume: Pick<Volume, 'volume_type_id'>): VolumeType | undefined {
    return this.store.typeById(volume.volume_type_id, true);
  }

  /** A type by id, deleted ones too: what a copy inherits from its source. */
  byIdIncludingDeleted(id: string): VolumeType | undefined {
    return this.store.typeById(id, true);
  }

  create(input: { name: unknown; description?: unknown; isPublic?: unknown; extraSpecs?: unknown }, context: RequestContext): VolumeType {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:type_create');
    const name = optionalText('name', input.name);
    if (!name) throw badRequest("Invalid input for field/attribute name. Value: None. None is not of type 'string'");
    if (this.store.typeByName(name)) throw volumeTypeExists(name);
    const isPublic = input.isPublic === undefined || input.isPublic === null ? true : parseBool(input.isPublic);
    if (isPublic === undefined) throw invalidInput(`Invalid value '${String(input.isPublic)}' for is_public. Accepted values: True or False.`);
    const type: VolumeType = {
      id: randomUUID(),
      name,
      description: optionalText('description', input.description),
      is_public: isPublic,
      extra_specs: checkMetadata(input.extraSpecs),
      created_at: this.now(),
      updated_at: null,
      deleted: false,
      deleted_at: null,
    };
    this.store.insertType(type);
    return type;
  }

  update(id: string, input: { name?: unknown; description?: unknown; isPublic?: unknown }, context: RequestContext): VolumeType {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:type_update');
    const type = this.get(id, context);
    const changes: Partial<VolumeType> = { updated_at: this.now() };
    const name = optionalText('name', input.name);
    if (name !== null) {
      const other = this.store.typeByName(name);
      if (other && other.id !== type.id) throw volumeTypeExists(name);
      changes.name = name;
    }
    if (input.description !== undefined) changes.description = optionalText('description', input.description);
    if (input.isPublic !== undefined && input.isPublic !== null) {
      const isPublic = parseBool(input.isPublic);
      if (isPublic === undefined) throw invalidInput(`Invalid value '${String(input.isPublic)}' for is_public. Accepted values: True or False.`);
      changes.is_public = isPublic;
    }
    this.store.updateType(type.id, changes);
    return this.get(type.id, context);
  }

  delete(id: string, context: RequestContext): void {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:type_delete');
    const type = this.get(id, context);
    if (type.name === DEFAULT_VOLUME_TYPE_NAME) throw badRequest(`The volume type ${type.id} is a default volume type and cannot be deleted.`);
    if (this.store.typeInUse(type.id)) throw badRequest(`Volume Type ${type.id} deletion is not allowed with volumes present with the type.`);
    const now = this.now();
    this.store.updateType(type.id, { deleted: true, deleted_at: now, updated_at: now });
  }

  setExtraSpecs(id: string, specs: unknown, context: RequestContext): Record<string, string> {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:types_extra_specs:create');
    const type = this.get(id, context);
    const merged = { ...type.extra_specs, ...checkMetadata(specs) };
    this.store.updateType(type.id, { extra_specs: merged, updated_at: this.now() });
    return merged;
  }

  unsetExtraSpec(id: string, key: string, context: RequestContext): void {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:types_extra_specs:delete');
    const type = this.get(id, context);
    if (!(key in type.extra_specs)) throw notFound(`Volume Type ${type.id} has no extra specs with key ${key}.`);
    const { [key]: _removed, ...rest } = type.extra_specs;
    this.store.updateType(type.id, { extra_specs: rest, updated_at: this.now() });
  }

  /** The extra specs a caller may read: all for admins, the user-visible ones otherwise. */
  visibleExtraSpecs(type: VolumeType, context: RequestContext): Record<string, string> {
    if (context.isAdmin) return type.extra_specs;
    return Object.fromEntries(Object.entries(type.extra_specs).filter(([key]) => USER_VISIBLE_EXTRA_SPECS.includes(key)));
  }

  /** GET /types/{id}/os-volume-type-access: who may use a private type (admin). */
  access(id: string, context: RequestContext): string[] {
    if (!context.isAdmin) throw policyNotAuthorized('volume_extension:volume_type_access');
    const type = this.get(id, context);
    if (type.is_public) throw notFound('Access list not available for public volume types.');
    return this.store.typeAccess(type.id);
  }

  /** addProjectAccess / removeProjectAccess on a private type (admin). */
  changeAccess(id: string, projectId: unknown, grant: boolean, context: RequestContext): void {
    if (!context.isAdmin) throw policyNotAuthorized(grant ? 'volume_extension:volume_type_access:addProjectAccess' : 'volume_extension:volume_type_access:removeProjectAccess');
    if (typeof projectId !== 'string' || !projectId) throw badRequest(`Invalid input for field/attribute project. Value: ${String(projectId)}. None is not of type 'string'`);
    const type = this.get(id, context);
    if (type.is_public) throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
    if (grant && !this.store.addTypeAccess(type.id, projectId)) throw conflict(`Volume type access for ${type.id} / ${projectId} combination already exists.`);
    if (!grant && !this.store.removeTypeAccess(type.id, projectId)) throw notFound(`Volume type access not found for ${type.id} / ${projectId} combination.`);
  }
}
