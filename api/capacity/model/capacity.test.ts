import { describe, expect, it } from 'vitest';
import { capacityReport, type HostInventory } from './capacity.ts';
import { DEFAULT_CAPACITY_FACTORS, resolveCapacityFactors } from './config.ts';

// Host a: 16 hyperthreaded cores, 128 GiB, 1000 GB, nova reservations; host b: 8 plain cores with its own factors.
const hostA: HostInventory = { name: 'a', availabilityZone: 'az1', aggregates: ['ssd', 'gpu'], cores: 16, threadsPerCore: 2, memoryMb: 131072, diskGb: 1000, reserved: { memoryMb: 4096, diskGb: 50 } };
const hostB: HostInventory = { name: 'b', availabilityZone: 'az2', aggregates: ['ssd'], cores: 8, memoryMb: 65536, diskGb: 500, factors: { cpuAllocationRatio: 4, osOverhead: 0 } };

describe('capacity model', () => {
  it('applies hyperthreading 1.3, 20% overhead, reservations and 8:1 / 1:1 ratios (hand-computed)', () => {
    const report = capacityReport([hostA, hostB], { a: { vcpus: 40, memoryMb: 32768, diskGb: 200 } });
    const [a, b] = report.hosts;
    // a: 16 x 1.3 = 20.8 logical; x 0.8 = 16.64; x 8 = 133.12 -> 133 vCPUs.
    // RAM 131072 x 0.8 - 4096 = 100761.6 -> 100761 MB; disk 1000 x 0.8 - 50 = 750 GB.
    expect(a!.logicalCpus).toBeCloseTo(20.8, 9);
    expect(a!.capacity).toEqual({ vcpus: 133, memoryMb: 100761, diskGb: 750 });
    expect(a!.maxUnit).toEqual({ vcpus: 16, memoryMb: 100761, diskGb: 750 });
    expect(a!.free).toEqual({ vcpus: 93, memoryMb: 67993, diskGb: 550 });
    // b: no hyperthreading, no overhead, 4:1 -> 32 vCPUs; RAM and disk whole.
    expect(b!.capacity).toEqual({ vcpus: 32, memoryMb: 65536, diskGb: 500 });
    expect(b!.free).toEqual(b!.capacity);
    expect(report.total).toMatchObject({ hosts: 2, capacity: { vcpus: 165, memoryMb: 166297, diskGb: 1250 }, used: { vcpus: 40, memoryMb: 32768, diskGb: 200 }, free: { vcpus: 125, memoryMb: 133529, diskGb: 1050 } });
    expect(report.total.utilisation.vcpus).toBeCloseTo(40 / 165, 12);
    expect(Object.keys(report.aggregates)).toEqual(['gpu', 'ssd']);
    expect(report.aggregates['ssd']!.capacity).toEqual(report.total.capacity);
    expect(report.aggregates['gpu']!.capacity).toEqual(a!.capacity);
    expect(report.availabilityZones['az2']!.free).toEqual(b!.free);
  });

  it('puts a host without a zone in nova and reports negative free when allocations exceed capacity', () => {
    const report = capacityReport([{ name: 'c', cores: 2, memoryMb: 1000, diskGb: 10 }], { c: { vcpus: 20 } }, { osOverhead: 0 });
    expect(report.hosts[0]).toMatchObject({ availabilityZone: 'nova', capacity: { vcpus: 16, memoryMb: 1000, diskGb: 10 }, free: { vcpus: -4, memoryMb: 1000, diskGb: 10 } });
  });

  it('makes every factor configurable and refuses bad values naming the key', () => {
    expect(resolveCapacityFactors({})).toEqual(DEFAULT_CAPACITY_FACTORS);
    expect(resolveCapacityFactors({ cpuAllocationRatio: 16, osOverhead: { memoryMb: 0.1 } })).toMatchObject({ cpuAllocationRatio: 16, osOverhead: { vcpus: 0.2, memoryMb: 0.1, diskGb: 0.2 } });
    const code = 'CUMULUS_CAPACITY_CONFIG_INVALID';
    expect(() => resolveCapacityFactors({ cpuAllocationRatio: 0 })).toThrow(expect.objectContaining({ code, message: 'cpuAllocationRatio must be a positive number, got 0' }));
    expect(() => resolveCapacityFactors({ hyperthreadingFactor: 2.5 })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^hyperthreadingFactor must be a number in \[1, 2\]/) }));
    expect(() => resolveCapacityFactors({ cpuRatio: 4 } as never)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^cpuRatio must be one of/) }));
    expect(() => capacityReport([hostA, { ...hostB, factors: { osOverhead: { memoryMb: 1.5 } } }])).toThrow(expect.objectContaining({ code, message: 'hosts[1].factors.osOverhead.memoryMb must be a fraction in [0, 1), got 1.5' }));
  });

  it('refuses a malformed inventory naming the host and field', () => {
    const code = 'CUMULUS_CAPACITY_INVENTORY_INVALID';
    expect(() => capacityReport([{ ...hostA, memoryMb: -1 }])).toThrow(expect.objectContaining({ code, message: 'hosts[0].memoryMb must be a non-negative number, got -1' }));
    expect(() => capacityReport([hostA, { ...hostB, name: 'a' }])).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^hosts\[1\].name must be unique/) }));
    expect(() => capacityReport([hostA], { zz: { vcpus: 1 } })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^used\["zz"\] must be the name of an inventoried host/) }));
    expect(() => capacityReport([{ ...hostA, threadsPerCore: 0.5 }])).toThrow(expect.objectContaining({ code, message: 'hosts[0].threadsPerCore must be at least 1, got 0.5' }));
  });
});
