import { describe, expect, it } from 'vitest';
import { fitByMonth, fitEachFlavor, packMix, type Flavor, type HostRoom } from './flavor-fit.ts';

// The free room of capacity.test.ts's hosts a and b.
const a: HostRoom = { name: 'a', free: { vcpus: 93, memoryMb: 67993, diskGb: 550 }, maxUnit: { vcpus: 16, memoryMb: 100761, diskGb: 750 } };
const b: HostRoom = { name: 'b', free: { vcpus: 32, memoryMb: 65536, diskGb: 500 }, maxUnit: { vcpus: 8, memoryMb: 65536, diskGb: 500 } };
const small: Flavor = { name: 'small', vcpus: 1, memoryMb: 2048, diskGb: 20 };
const large: Flavor = { name: 'large', vcpus: 8, memoryMb: 16384, diskGb: 80 };
const huge: Flavor = { name: 'huge', vcpus: 16, memoryMb: 32768, diskGb: 100 };

describe('flavor fit, each flavor alone', () => {
  it('sums per host the floor of the scarcest resource, and respects the host max unit (hand-computed)', () => {
    const fits = fitEachFlavor([a, b], [small, large, huge]);
    // small: a min(93, 33, 27) = 27, b min(32, 32, 25) = 25 -> 52, disk-bound on both.
    expect(fits[0]).toEqual({ flavor: 'small', count: 52, limitedBy: 'diskGb' });
    // large: a min(11, 4, 6) = 4, b min(4, 4, 6) = 4 -> 8.
    expect(fits[1]!.count).toBe(8);
    // huge: a min(5, 2, 5) = 2; b's 8 raw CPUs cannot take 16 vCPUs at any ratio -> 0.
    expect(fits[2]!.count).toBe(2);
  });

  it('refuses a flavor of nothing or a duplicate name', () => {
    expect(() => fitEachFlavor([a], [{ name: 'z', vcpus: 0, memoryMb: 0, diskGb: 0 }])).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_INVENTORY_INVALID', message: expect.stringMatching(/flavors\[0\] \(flavor z\) must need some/) }));
    expect(() => fitEachFlavor([a], [small, small])).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_INVENTORY_INVALID', message: expect.stringMatching(/flavors\[1\].name must be unique/) }));
    expect(() => fitEachFlavor([a], [{ ...small, memoryMb: -5 }])).toThrow(expect.objectContaining({ message: 'flavors[0].memoryMb (flavor small) must be a non-negative number, got -5' }));
  });
});

describe('mixed packing (boxes in a van)', () => {
  it('places the mix in proportion, best fit, until an instance fits nowhere (hand-simulated)', () => {
    const room = { vcpus: 8, memoryMb: 16384, diskGb: 100 };
    const s: Flavor = { name: 's', vcpus: 1, memoryMb: 2048, diskGb: 10 };
    const l: Flavor = { name: 'l', vcpus: 4, memoryMb: 8192, diskGb: 40 };
    // l s s (host 1 fills to 2 vCPUs), l (host 2), s s (host 1 full), l (host 2 full), s: nowhere.
    const packing = packMix([{ name: 'h1', free: room }, { name: 'h2', free: room }], [s, l], [{ flavor: 's', weight: 2 }, { flavor: 'l', weight: 1 }]);
    expect(packing).toEqual({ placed: { s: 4, l: 3 }, total: 7, stoppedBy: 's', leftover: { vcpus: 0, memoryMb: 0, diskGb: 40 } });
    // Alone, s would fit 16 times: the mix costs capacity, which is the point of the model.
    expect(fitEachFlavor([{ name: 'h1', free: room }, { name: 'h2', free: room }], [s])[0]!.count).toBe(16);
  });

  it('refuses a mix naming an unknown flavor or a non-positive weight', () => {
    expect(() => packMix([a], [small], [{ flavor: 'tiny', weight: 1 }])).toThrow(expect.objectContaining({ code: 'CUMULUS_CAPACITY_CONFIG_INVALID', message: expect.stringMatching(/^mix\[0\].flavor must name one of the flavors \(small\)/) }));
    expect(() => packMix([a], [small], [{ flavor: 'small', weight: 0 }])).toThrow(expect.objectContaining({ message: 'mix[0].weight must be a positive number, got 0' }));
  });
});

describe('flavor fit by month', () => {
  it('takes forecast growth from each host in proportion to its free room (hand-computed)', () => {
    // Total free: 125 vCPUs, 133529 MB, 1050 GB. Month 1 uses half the vCPUs and disk: each host keeps half.
    const months = fitByMonth([a, b], [small], [
      { atMs: 1, additionalUsed: { vcpus: 62.5, memoryMb: 0, diskGb: 525 } },
      { atMs: 2, additionalUsed: { vcpus: 200, memoryMb: 0, diskGb: 0 } },
    ]);
    // a: min(46.5 -> 46, 33, 275/20 -> 13) = 13; b: min(16, 32, 250/20 = 12) = 12.
    expect(months[0]).toEqual({ atMs: 1, fits: [{ flavor: 'small', count: 25, limitedBy: 'diskGb' }] });
    // Growth beyond all free vCPUs leaves nothing.
    expect(months[1]!.fits[0]!.count).toBe(0);
  });
});
