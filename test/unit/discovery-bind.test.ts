import { describe, expect, it } from 'vitest';
import {
  chooseInterfaces,
  narrowToBind,
  type NetInterface,
} from '../../main/core/discovery/interfaces.js';

const LO: NetInterface = {
  name: 'lo',
  up: true,
  addresses: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true }],
};
const ETH: NetInterface = {
  name: 'eth0',
  up: true,
  addresses: [
    { address: '192.168.1.5', netmask: '255.255.255.0', family: 'IPv4', internal: false },
  ],
};
const WLAN: NetInterface = {
  name: 'wlan0',
  up: true,
  addresses: [{ address: '10.0.0.7', netmask: '255.255.255.0', family: 'IPv4', internal: false }],
};
const all = [LO, ETH, WLAN];
const lan = chooseInterfaces(all, [], 'settings');

describe('mDNS interfaces follow the control API bind address', () => {
  it('a wildcard bind changes nothing', () => {
    expect(narrowToBind(lan, all, '0.0.0.0')).toBe(lan);
    expect(narrowToBind(lan, all, '::')).toBe(lan);
  });

  it('a loopback bind keeps mDNS on loopback only (UNAMENTIS_BIND=127.0.0.1 must not reach the LAN)', () => {
    expect(lan.interfaces.map((i) => i.name)).toEqual(['eth0', 'wlan0']);
    for (const bind of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '[::1]']) {
      const n = narrowToBind(lan, all, bind);
      expect(
        n.interfaces.map((i) => i.name),
        bind,
      ).toEqual(['lo']);
      expect(n.source).toBe('bind');
    }
  });

  it('a LAN address keeps only the interface that holds it', () => {
    expect(narrowToBind(lan, all, '10.0.0.7').interfaces.map((i) => i.name)).toEqual(['wlan0']);
    // An address no chosen interface holds: nowhere (the API is not reachable there either).
    expect(narrowToBind(lan, all, '172.16.0.1').interfaces).toEqual([]);
  });
});
