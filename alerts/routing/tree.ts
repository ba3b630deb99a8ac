/**
 * Alertmanager's route matching: depth first; a route whose matchers match takes the
 * alert unless one of its children does; among siblings the first match wins unless it
 * says `continue: true`. The root matches every alert.
 */
import type { RouteNode } from './config.ts';
import { matchesAll } from './matchers.ts';

function walk(node: RouteNode, labels: Readonly<Record<string, string>>): RouteNode[] {
  if (!matchesAll(node.matchers, labels)) return [];
  const found: RouteNode[] = [];
  for (const child of node.routes) {
    const taken = walk(child, labels);
    if (taken.length === 0) continue;
    found.push(...taken);
    if (!child.continue) break;
  }
  return found.length > 0 ? found : [node];
}

/** The routes an alert with `labels` goes to, in tree order. */
export function matchRoutes(root: RouteNode, labels: Readonly<Record<string, string>>): RouteNode[] {
  return walk(root, labels);
}

export function findRoute(root: RouteNode, id: string): RouteNode | undefined {
  if (root.id === id) return root;
  for (const child of root.routes) {
    const found = findRoute(child, id);
    if (found) return found;
  }
  return undefined;
}

/** The labels a group is keyed by, and its key: route id plus those labels (Alertmanager's group key shape). */
export function groupOf(route: RouteNode, labels: Readonly<Record<string, string>>): { key: string; labels: Record<string, string> } {
  const names = route.groupBy === 'all' ? Object.keys(labels).sort() : [...route.groupBy].sort();
  const picked: Record<string, string> = {};
  for (const n of names) if (labels[n] !== undefined) picked[n] = labels[n] as string;
  const body = Object.entries(picked).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
  return { key: `${route.id}:{${body}}`, labels: picked };
}
