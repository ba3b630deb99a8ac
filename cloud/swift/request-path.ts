import { MAX_ACCOUNT_NAME_BYTES, MAX_CONTAINER_NAME_BYTES, MAX_OBJECT_NAME_BYTES, RESELLER_PREFIX } from './config.ts';
import { badRequest, preconditionFailed } from './errors.ts';

/** What a request under `/object-storage` addresses, decoded as swift's split_path does. */
export interface SwiftPath {
  /** The path as swift-proxy sees it (`/v1/AUTH_x/c/o`), decoded: ceilometermiddleware reads this. */
  pathInfo: string;
  version: string;
  account: string;
  /** The project the account belongs to (`AUTH_<project>`), or null without the reseller prefix. */
  projectId: string | null;
  container: string | null;
  object: string | null;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Splits `/v1/<account>[/<container>[/<object>]]`. The whole path is decoded before it is
 * split, as swift does, so `%2F` in a container name becomes an object separator; a
 * trailing slash addresses the level above (`/v1/a/c/` is container c).
 */
export function parseSwiftPath(rawPathAfterPrefix: string): SwiftPath {
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(rawPathAfterPrefix);
  } catch {
    throw preconditionFailed('Invalid UTF8 or contains NULL');
  }
  if (pathInfo.includes('\0')) throw preconditionFailed('Invalid UTF8 or contains NULL');
  const [empty, version, account, ...rest] = pathInfo.split('/');
  if (empty !== '' || !version || !account) throw badRequest(`Invalid path: ${pathInfo}`);
  if (utf8Length(account) > MAX_ACCOUNT_NAME_BYTES) throw badRequest(`Account name length of ${utf8Length(account)} longer than ${MAX_ACCOUNT_NAME_BYTES}`);
  const container = rest[0] ? rest[0] : null;
  const objectName = rest.length > 1 ? rest.slice(1).join('/') : '';
  const object = container !== null && objectName !== '' ? objectName : null;
  if (container !== null && utf8Length(container) > MAX_CONTAINER_NAME_BYTES) {
    throw badRequest(`Container name length of ${utf8Length(container)} longer than ${MAX_CONTAINER_NAME_BYTES}`);
  }
  if (object !== null && utf8Length(object) > MAX_OBJECT_NAME_BYTES) {
    throw badRequest(`Object name length of ${utf8Length(object)} longer than ${MAX_OBJECT_NAME_BYTES}`);
  }
  const projectId = account.startsWith(RESELLER_PREFIX) && account.length > RESELLER_PREFIX.length ? account.slice(RESELLER_PREFIX.length) : null;
  return { pathInfo, version, account, projectId, container, object };
}
