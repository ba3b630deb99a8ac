/**
 * What the API stages learn from a Keystone token. They verify tokens through this
 * contract only: in-process against our Keystone in embedded mode, over HTTP against
 * any Keystone otherwise.
 */
export interface TokenInfo {
  userId: string;
  userName: string;
  domainId: string;
  /** Null for a domain-scoped or unscoped token. */
  projectId: string | null;
  projectName: string | null;
  roles: readonly string[];
  expiresAt: Date;
}

export interface TokenVerifier {
  /** Resolves the token's identity, or rejects with CUMULUS_AUTH_TOKEN_INVALID (401). */
  verify(token: string): Promise<TokenInfo>;
}

/** Keystone's projects of a domain: what a domain's statement covers (the rated usage records projects only). */
export interface ProjectDirectory {
  /** The ids of the domain's projects (deleted ones are gone from Keystone, as there); null when the domain does not exist. */
  projectsOfDomain(domainId: string): Promise<string[] | null>;
}

export const ADMIN_ROLE = 'admin';

export function isAdmin(info: TokenInfo): boolean {
  return info.roles.includes(ADMIN_ROLE);
}
