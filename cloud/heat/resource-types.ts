import { randomInt, randomUUID } from 'node:crypto';
import type { RequestContext } from '../notifier.ts';
import type { HeatSettings } from './config.ts';
import { stackInvalid } from './errors.ts';
import { UNRESOLVED, containsUnresolved, isMapping } from './functions.ts';

/**
 * What creates and deletes the physical resource behind one resource type, in Heat's
 * plugin terms (handle_create, check_create_complete, handle_delete). The built-in types
 * are here; the composition adds others (OS::Cinder::Volume, OS::Neutron::FloatingIP...)
 * through `createHeat`'s `resourceTypes` option. Stable.
 */
export interface ResourceCreator {
  /**
   * Refuses properties the type cannot take, by throwing (the stack create or update
   * then answers 400 StackValidationFailed with the message). Values only known once
   * other resources exist are UNRESOLVED here: skip them.
   */
  validate?(properties: Readonly<Record<string, unknown>>, where: string): void | Promise<void>;
  /** Starts creating the physical resource and returns its id (Heat's handle_create). */
  create(request: ResourceCreateRequest, context: RequestContext): Promise<ResourceCreated>;
  /**
   * Resolves once the resource is usable (check_create_complete); a rejection fails the
   * resource. The id from `create` is already recorded, so a stack delete removes it.
   */
  checkCreateComplete?(id: string, context: RequestContext, signal: AbortSignal): Promise<void>;
  /** Deletes the physical resource. A 404 (already gone) counts as deleted. */
  delete(id: string, context: RequestContext): Promise<void>;
}

export interface ResourceCreateRequest {
  stackId: string;
  stackName: string;
  resourceName: string;
  /** The resource's properties, every intrinsic function resolved. */
  properties: Readonly<Record<string, unknown>>;
  /** The name Heat gives a physical resource whose template names none: `<stack>-<resource>-<short id>`. */
  physicalName: string;
  /**
   * Metadata to set on the physical resource so the metering can attribute its usage to
   * the stack (`{"metering.stack": "<stack id>"}`); Ceilometer copies `metering.*`
   * metadata into a sample's resource_metadata.user_metadata.
   */
  meteringMetadata: Readonly<Record<string, string>>;
  /** Aborted when the stack is deleted while this resource is being created. */
  signal: AbortSignal;
}

export interface ResourceCreated {
  id: string;
  /** Values get_attr can read (for example a volume's size); others resolve to null. */
  attributes?: Record<string, unknown>;
}

/** What a server resource needs of the compute service: NovaService satisfies it as it is. */
export interface ComputeApi {
  createServer(
    input: { name: string; flavorRef: string; imageRef: string; availabilityZone?: string | null; metadata?: Record<string, string> },
    context: RequestContext,
  ): Promise<{ id: string }>;
  deleteServer(id: string, context: RequestContext): Promise<void>;
  /** Optional: lets `flavor` name a flavor, not only its id (Heat's nova.flavor constraint). */
  listFlavors?(): ReadonlyArray<{ id: string; name: string }>;
  /** Optional: lets a server resource wait for ACTIVE (or fail on ERROR) as Heat does; without it, created means complete. */
  getServer?(id: string, projectId: string | null): { vm_state: string; fault: { code?: number; message: string } | null } | Promise<{ vm_state: string; fault: { code?: number; message: string } | null }>;
}

/** Optional image lookup (Glance): lets `image` name an image; without it the value goes to Nova as given. */
export interface ImageResolver {
  resolveImage(nameOrId: string, context: RequestContext): Promise<string>;
}

/** A resource went to an error state (heat.common.exception.ResourceInError). */
export class ResourceInError extends Error {
  constructor(status: string, reason: string) {
    super(`Went to status ${status} due to "${reason}"`);
    this.name = 'ResourceInError';
  }
}

/** Waits `ms`, or rejects at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const known = (value: unknown): boolean => value !== undefined && !containsUnresolved(value);

/** Nova takes metadata values as strings; Heat JSON-encodes the others (server.py _metadata_format). */
function metadataStrings(metadata: unknown): Record<string, string> {
  if (!isMapping(metadata)) return {};
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** OS::Nova::Server through the compute service; tags the server `metering.stack=<stack id>`. */
export function serverType(compute: ComputeApi, images: ImageResolver | undefined, settings: HeatSettings): ResourceCreator {
  const findFlavor = (flavor: string): string | null => {
    if (!compute.listFlavors) return flavor;
    const flavors = compute.listFlavors();
    return (flavors.find((f) => f.id === flavor) ?? flavors.find((f) => f.name === flavor))?.id ?? null;
  };
  return {
    validate(properties, where) {
      const { flavor, image, metadata, name } = properties;
      if (flavor === undefined || flavor === null) throw stackInvalid(`Property error: ${where}.properties: Property flavor not assigned`);
      if (known(flavor)) {
        if (typeof flavor !== 'string' && typeof flavor !== 'number') throw stackInvalid(`Property error: ${where}.properties.flavor: Value must be a string`);
        if (findFlavor(String(flavor)) === null) {
          throw stackInvalid(`Property error: ${where}.properties.flavor: Error validating value '${String(flavor)}': The Flavor (${String(flavor)}) could not be found.`);
        }
      }
      if (image === undefined || image === null) throw stackInvalid(`${where}: Neither image nor bootable volume is specified for instance ${where.split('.').pop() ?? ''}`);
      if (known(image) && typeof image !== 'string') throw stackInvalid(`Property error: ${where}.properties.image: Value must be a string`);
      if (known(metadata) && metadata !== undefined && !isMapping(metadata)) throw stackInvalid(`Property error: ${where}.properties.metadata: Value must be a map`);
      if (known(name) && name !== undefined && typeof name !== 'string') throw stackInvalid(`Property error: ${where}.properties.name: Value must be a string`);
    },
    async create(request, context) {
      const { properties } = request;
      const flavorRef = findFlavor(String(properties.flavor));
      if (flavorRef === null) throw new Error(`The Flavor (${String(properties.flavor)}) could not be found.`);
      const image = String(properties.image);
      const imageRef = images ? await images.resolveImage(image, context) : image;
      const name = typeof properties.name === 'string' && properties.name !== '' ? properties.name : request.physicalName;
      const server = await compute.createServer(
        {
          name,
          flavorRef,
          imageRef,
          availabilityZone: typeof properties.availability_zone === 'string' ? properties.availability_zone : null,
          // Ours last: a template cannot move a server out of its stack's bill.
          metadata: { ...metadataStrings(properties.metadata), ...request.meteringMetadata },
        },
        context,
      );
      return { id: server.id, attributes: { name } };
    },
    ...(compute.getServer
      ? {
          async checkCreateComplete(id: string, context: RequestContext, signal: AbortSignal) {
            const getServer = compute.getServer?.bind(compute);
            if (!getServer) return;
            for (;;) {
              const server = await getServer(id, context.isAdmin ? null : context.projectId);
              if (server.vm_state === 'active') return;
              if (server.vm_state === 'error' || server.vm_state === 'deleted') {
                const fault = server.fault;
                throw new ResourceInError(server.vm_state.toUpperCase(), fault ? `Message: ${fault.message}, Code: ${fault.code ?? 500}` : 'Unknown');
              }
              await sleep(settings.pollIntervalMs, signal);
            }
          },
        }
      : {}),
    async delete(id, context) {
      await compute.deleteServer(id, context);
    },
  };
}

/** OS::Heat::None: accepts any properties and creates nothing (a placeholder). */
export const noneType: ResourceCreator = {
  async create() {
    return { id: randomUUID() };
  },
  async delete() {},
};

/** Character classes of OS::Heat::RandomString (heat/common/password_gen.py). */
const CHARACTER_CLASSES: Readonly<Record<string, string>> = {
  lettersdigits: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  letters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
};

function randomStringAlphabet(properties: Readonly<Record<string, unknown>>): string {
  const classes = Array.isArray(properties.character_classes) ? properties.character_classes : [];
  const sequences = Array.isArray(properties.character_sequences) ? properties.character_sequences : [];
  let alphabet = '';
  for (const entry of classes) alphabet += CHARACTER_CLASSES[String(isMapping(entry) ? entry.class : entry)] ?? '';
  for (const entry of sequences) alphabet += String(isMapping(entry) ? entry.sequence : entry);
  return alphabet === '' ? (CHARACTER_CLASSES.lettersdigits as string) : [...new Set(alphabet)].join('');
}

/** OS::Heat::RandomString: a random `value` (length 32 by default); its id is its physical name, as in Heat. */
export const randomStringType: ResourceCreator = {
  validate(properties, where) {
    const { length } = properties;
    if (length !== undefined && length !== UNRESOLVED && (!Number.isInteger(Number(length)) || Number(length) < 1 || Number(length) > 512)) {
      throw stackInvalid(`Property error: ${where}.properties.length: ${String(length)} is out of range (min: 1, max: 512)`);
    }
    for (const entry of Array.isArray(properties.character_classes) ? properties.character_classes : []) {
      const name = String(isMapping(entry) ? entry.class : entry);
      if (!(name in CHARACTER_CLASSES)) throw stackInvalid(`Property error: ${where}.properties.character_classes: "${name}" is not an allowed value [${Object.keys(CHARACTER_CLASSES).join(', ')}]`);
    }
  },
  async create(request) {
    const length = request.properties.length === undefined ? 32 : Number(request.properties.length);
    const alphabet = randomStringAlphabet(request.properties);
    let value = '';
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    return { id: request.physicalName, attributes: { value } };
  },
  async delete() {},
};

/** The types every Heat here knows, whatever the composition adds. */
export const BUILT_IN_TYPES = ['OS::Nova::Server', 'OS::Heat::None', 'OS::Heat::RandomString'] as const;
