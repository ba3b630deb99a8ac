import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonFileOffsetStore, emptyOffsets, type LogOffsets } from './offsets.ts';

describe('JsonFileOffsetStore', () => {
  let root: string;
  let path: string;
  const state: LogOffsets = { version: 1, files: { 'compute-1/nova-compute.log': { offset: 120, ino: '98765432109876543210', fingerprint: 'ab'.repeat(32), fingerprintBytes: 120 } } };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cumulus-offsets-'));
    path = join(root, 'collectors', 'log-offsets.json');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('starts empty when there is no file yet', async () => {
    expect(await new JsonFileOffsetStore(path).load()).toEqual(emptyOffsets());
  });

  it('saves and loads back, creating the folder, leaving no temporary file', async () => {
    const store = new JsonFileOffsetStore(path);
    await store.save(state);
    const entry = state.files['compute-1/nova-compute.log'] as LogOffsets['files'][string];
    await store.save({ ...state, files: { 'compute-1/nova-compute.log': { ...entry, offset: 240 } } });
    expect((await new JsonFileOffsetStore(path).load()).files['compute-1/nova-compute.log']?.offset).toBe(240);
    expect(readdirSync(join(root, 'collectors'))).toEqual(['log-offsets.json']);
  });

  it.each([
    ['not JSON', '{"version": 1, "files": ', /is not JSON/],
    ['another shape', '{"offsets": []}', /must hold \{"version": 1/],
    ['a bad entry', '{"version": 1, "files": {"h/f.log": {"offset": -1, "ino": "1", "fingerprint": null, "fingerprintBytes": 0}}}', /entry "h\/f.log" must have offset/],
  ])('refuses %s with CUMULUS_COLLECTOR_LOG_OFFSETS_INVALID', async (_what, text, message) => {
    await new JsonFileOffsetStore(path).save(emptyOffsets());
    writeFileSync(path, text);
    await expect(new JsonFileOffsetStore(path).load()).rejects.toMatchObject({ code: 'CUMULUS_COLLECTOR_LOG_OFFSETS_INVALID', message: expect.stringMatching(message) });
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
