import { JSONPath } from 'jsonpath-plus';

export type Extractor = (message: unknown) => unknown[];

/**
 * Compiles a jsonpath once. Plain dotted paths (`$.payload.instance_id`, the great
 * majority in meters.yaml) become direct property walks, which is what keeps mapping
 * fast; anything richer (filters, wildcards, slices) goes to jsonpath-plus.
 */
export function compileJsonPath(path: string): Extractor {
  const simple = /^\$((?:\.[A-Za-z_][A-Za-z0-9_\-:]*|\['[^']+'\])+)$/.exec(path.trim());
  if (simple) {
    const keys = [...(simple[1] as string).matchAll(/\.([A-Za-z_][A-Za-z0-9_\-:]*)|\['([^']+)'\]/g)].map((m) => (m[1] ?? m[2]) as string);
    return (message) => {
      let node: unknown = message;
      for (const key of keys) {
        if (node === null || typeof node !== 'object') return [];
        node = (node as Record<string, unknown>)[key];
      }
      return node === undefined ? [] : [node];
    };
  }
  return (message) => JSONPath({ path, json: message as object, wrap: true }) as unknown[];
}
