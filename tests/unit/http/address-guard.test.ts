// AddressGuard (node-peer/http/address-guard.ts): connections per address and in all, invalid requests
// counted within a window, a ban past the limit that ends after banMs, IPv4-mapped addresses as one.
import { describe, expect, it } from 'vitest';
import { AddressGuard, refusal } from '../../../node-peer/http/address-guard.ts';

describe('AddressGuard', () => {
  it('limits connections per address and in all, and gives them back on release', () => {
    const g = new AddressGuard({ perAddress: 2, total: 3 });
    expect(g.admit('10.0.0.1')).toBe('ok');
    expect(g.admit('::ffff:10.0.0.1')).toBe('ok'); // the same address
    expect(g.admit('10.0.0.1')).toBe('too-many-from-address');
    expect(g.admit('10.0.0.2')).toBe('ok');
    expect(g.admit('10.0.0.3')).toBe('busy');
    g.release('10.0.0.1');
    expect(g.count('10.0.0.1')).toBe(1);
    expect(g.admit('10.0.0.3')).toBe('ok');
    expect(g.count()).toBe(3);
    g.release('10.0.0.9'); // never admitted: nothing changes
    expect(g.count()).toBe(3);
  });

  it('refuses an address past the invalid limit within the window, for banMs, and no other', () => {
    let now = 0;
    const g = new AddressGuard({ invalidLimit: 3, windowMs: 1000, banMs: 5000 }, () => now);
    expect(g.invalid('1.1.1.1')).toBe(false);
    now = 1500; // the first has left the window
    expect(g.invalid('1.1.1.1')).toBe(false);
    expect(g.invalid('1.1.1.1')).toBe(false);
    expect(g.banned('1.1.1.1')).toBe(false);
    expect(g.invalid('1.1.1.1')).toBe(true);
    expect(g.admit('1.1.1.1')).toBe('banned');
    expect(g.admit('2.2.2.2')).toBe('ok');
    expect(refusal('banned', '1.1.1.1', g.limits)).toEqual({ status: 429, reason: '1.1.1.1 sent too many invalid requests; refused for 5 s' });
    now = 6600;
    expect(g.admit('1.1.1.1')).toBe('ok');
  });

  it('never refuses with invalidLimit 0', () => {
    const g = new AddressGuard({ invalidLimit: 0 });
    for (let i = 0; i < 1000; i++) expect(g.invalid('3.3.3.3')).toBe(false);
    expect(g.admit('3.3.3.3')).toBe('ok');
  });
});
