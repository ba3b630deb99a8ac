import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants } from './support/api-tenants.ts';
import { GNOCCHI_CLI, gnocchi as runGnocchi, gnocchiCliAvailable } from './support/gnocchi-cli.ts';
import { IN_CI } from './support/services.ts';

const available = gnocchiCliAvailable();
if (!available && !IN_CI) process.stderr.write(`[skip] ${GNOCCHI_CLI} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;

/** The real gnocchi CLI driving the resource index through the catalog's `metric` endpoint. */
describe.runIf(available || IN_CI)('the real gnocchi CLI: resources and resource types', { timeout: 180_000 }, () => {
  let t: ApiTenants;

  /** `gnocchi <args>` as the cloud admin (an openrc in the environment); `-f json` output parsed unless `json` is false. */
  const gnocchi = <T = Row>(args: readonly string[], json = true): Promise<T> =>
    runGnocchi<T>({ authUrl: `${t.url}/identity/v3`, username: 'admin', password: t.platform.adminPassword, project: 'admin' }, args, { json });

  beforeAll(async () => {
    t = await startApiTenants();
  }, 60_000);
  afterAll(async () => t?.stop());

  it('has the gnocchi CLI installed', () => {
    expect(available, `${GNOCCHI_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('creates, lists, shows, updates and deletes a resource type', async () => {
    const created = await gnocchi(['resource-type', 'create', '-a', 'zone:string:true:max_length=8', '-a', 'slots:number:false:min=0:max=64', 'cli_rack']);
    expect(created).toEqual({
      name: 'cli_rack',
      state: 'active',
      'attributes/zone': 'max_length=8, min_length=0, required=True, type=string',
      'attributes/slots': 'max=64, min=0, required=False, type=number',
    });
    const listed = await gnocchi<Row[]>(['resource-type', 'list']);
    expect(listed.map((r) => r.name)).toEqual(expect.arrayContaining(['generic', 'instance', 'cli_rack']));
    expect(listed.find((r) => r.name === 'generic')?.attributes).toBe('');
    expect(await gnocchi(['resource-type', 'show', 'cli_rack'])).toEqual(created);
    const updated = await gnocchi(['resource-type', 'update', '-a', 'row:string:true:max_length=4:fill=A', '-r', 'slots', 'cli_rack']);
    expect(updated).toEqual({ name: 'cli_rack', state: 'active', 'attributes/zone': created['attributes/zone'], 'attributes/row': 'max_length=4, min_length=0, required=True, type=string' });
    await gnocchi(['resource-type', 'delete', 'cli_rack'], false);
    await expect(gnocchi(['resource-type', 'show', 'cli_rack'])).rejects.toThrow(/cli_rack does not exist/);
  });

  it('creates, shows, updates, searches and deletes resources, with their history', async () => {
    await gnocchi(['resource-type', 'create', '-a', 'zone:string:true:max_length=8', '-a', 'slots:number:false', 'cli_box']);
    const id = randomUUID();
    const created = await gnocchi(['resource', 'create', '-t', 'cli_box', '-a', 'zone:z1', '-a', 'slots:10', '-n', 'temperature:low', id]);
    expect(created).toMatchObject({ id, original_resource_id: id, type: 'cli_box', zone: 'z1', slots: 10, project_id: t.admin.projectId, ended_at: null, revision_end: null });
    expect(Object.keys(created.metrics)).toEqual(['temperature']);
    const text = `cli box ${id.slice(0, 8)}`;
    const named = await gnocchi(['resource', 'create', '-t', 'cli_box', '-a', 'zone:z9', text]);
    expect(named.original_resource_id).toBe(text);
    expect(named.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);

    const shown = await gnocchi(['resource', 'show', '-t', 'cli_box', id]);
    expect(shown).toEqual(created);
    const generic = await gnocchi(['resource', 'show', id]);
    expect(generic).toMatchObject({ id, type: 'cli_box' });
    expect(generic).not.toHaveProperty('zone');
    expect((await gnocchi(['resource', 'show', '-t', 'cli_box', text])).id).toBe(named.id);

    const updated = await gnocchi(['resource', 'update', '-t', 'cli_box', '-a', 'zone:z2', '-n', 'humidity:low', id]);
    expect(updated).toMatchObject({ id, zone: 'z2', slots: 10 });
    expect(Object.keys(updated.metrics).sort()).toEqual(['humidity', 'temperature']);
    const dropped = await gnocchi(['resource', 'update', '-t', 'cli_box', '-d', 'temperature', id]);
    expect(Object.keys(dropped.metrics)).toEqual(['humidity']);

    const history = await gnocchi<Row[]>(['resource', 'history', '-t', 'cli_box', id]);
    expect(history.map((r) => [r.id, r.zone])).toEqual([
      [id, 'z1'],
      [id, 'z2'],
    ]);
    expect(history[0]?.revision_end).toBe(history[1]?.revision_start);
    expect(history[1]?.revision_end).toBeNull();

    const listed = await gnocchi<Row[]>(['resource', 'list', '-t', 'cli_box']);
    expect(listed.map((r) => r.id).sort()).toEqual([id, named.id].sort());
    expect(listed.find((r) => r.id === id)).toMatchObject({ zone: 'z2', slots: 10, type: 'cli_box' });
    const sorted = await gnocchi<Row[]>(['resource', 'list', '-t', 'cli_box', '--sort', 'zone:desc', '--limit', '1']);
    expect(sorted.map((r) => r.zone)).toEqual(['z9']);
    const found = await gnocchi<Row[]>(['resource', 'search', '-t', 'cli_box', "zone = 'z2' and slots >= 10"]);
    expect(found.map((r) => r.id)).toEqual([id]);
    expect(await gnocchi<Row[]>(['resource', 'search', '-t', 'cli_box', "zone = 'z1'"])).toEqual([]);
    const old = await gnocchi<Row[]>(['resource', 'search', '-t', 'cli_box', '--history', "zone = 'z1'"]);
    expect(old.map((r) => [r.id, r.zone])).toEqual([[id, 'z1']]);
    const injected = await gnocchi<Row[]>(['resource', 'search', '-t', 'cli_box', `zone = "z2' OR '1'='1"`]);
    expect(injected).toEqual([]);

    await expect(gnocchi(['resource', 'create', '-t', 'cli_box', '-a', 'zone:way-too-long', randomUUID()])).rejects.toThrow(/zone/);
    await expect(gnocchi(['resource', 'update', '-t', 'cli_box', '-a', 'colour:red', id])).rejects.toThrow(/colour/);

    await gnocchi(['resource', 'delete', id], false);
    await expect(gnocchi(['resource', 'show', id])).rejects.toThrow(/does not exist|Not Found|404/);
    const batch = await gnocchi(['resource', 'batch', 'delete', '-t', 'cli_box', "zone = 'z9'"]);
    expect(batch).toEqual({ deleted: 1 });
    expect(await gnocchi<Row[]>(['resource', 'list', '-t', 'cli_box'])).toEqual([]);
    await gnocchi(['resource-type', 'delete', 'cli_box'], false);
  });
});
