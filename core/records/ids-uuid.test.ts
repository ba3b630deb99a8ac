import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CUMULUS_ID_NAMESPACE, deriveId } from './ids.ts';

describe('deriveId', () => {
  it('is exactly RFC 4122 UUIDv5 of the joined parts (checked against the uuid package)', () => {
    for (const parts of [['a'], ['sample', 'msg-1', 'cpu', 'vm-1'], ['métrique', 'ü', ''], ['x'.repeat(500)]]) {
      expect(deriveId(...parts)).toBe(uuidv5(parts.join('\u001f'), CUMULUS_ID_NAMESPACE));
    }
  });
});
