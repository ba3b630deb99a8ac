import type { RequestContext } from '../notifier.ts';
import { volumeNotFound } from './errors.ts';
import type { Volume } from './model.ts';
import type { CinderStore } from './store.ts';

/** Who sees what: Cinder's admin_or_owner, with 404 (never 403) for what is someone else's, so existence does not leak. */

/** The project whose resources a caller sees: every project (null) for an admin, their own otherwise. */
export function projectScope(context: RequestContext): string | null {
  return context.isAdmin ? null : (context.projectId ?? '');
}

/** The project a listing covers: all_tenants counts for admins only (a member's is silently ignored, as in Cinder). */
export function listingScope(context: RequestContext, allTenants: boolean, projectId: string | undefined): string | null {
  return context.isAdmin && allTenants ? (projectId ?? null) : (context.projectId ?? '');
}

/** A live volume of `projectId` (null: any project). */
export function requireVolume(store: CinderStore, id: string, projectId: string | null): Volume {
  const volume = store.volume(id);
  if (!volume || (projectId !== null && volume.project_id !== projectId)) throw volumeNotFound(id);
  return volume;
}
