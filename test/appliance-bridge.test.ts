import type { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { bridgeAddress, interfaceAddress, type AddressSources } from '../src/appliance.ts';
import { loadConfig } from '../src/config.ts';

// What a Debian host with Docker's default bridge shows while no container runs (docker0 down), trimmed.
const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 4
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.1
              /32 host LOCAL
     +-- 172.17.0.0/16 2 0 2
        +-- 172.17.0.0/31 1 0 0
           |-- 172.17.0.0
              /16 link UNICAST
           |-- 172.17.0.1
              /32 host LOCAL
        |-- 172.17.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
           |-- 192.0.2.2
              /32 host LOCAL
`;

function sources(listed: Record<string, string> = {}, files: Record<string, string> = { '/proc/net/route': ROUTE, '/proc/net/fib_trie': FIB_TRIE }): AddressSources {
  const interfaces = () =>
    Object.fromEntries(Object.entries(listed).map(([name, address]) => [name, [{ address, family: 'IPv4' }]])) as unknown as ReturnType<typeof networkInterfaces>;
  return {
    interfaces,
    read: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
  };
}

describe('interfaceAddress', () => {
  it('takes the address the OS lists for an interface that is up', () => {
    expect(interfaceAddress('docker0', sources({ docker0: '10.99.0.1' }))).toBe('10.99.0.1');
  });

  it("finds a down bridge's address in the kernel's tables", () => {
    expect(interfaceAddress('docker0', sources())).toBe('172.17.0.1');
    expect(interfaceAddress('eth0', sources())).toBe('192.0.2.2');
  });

  it('answers undefined for an interface that is not there, or tables it cannot read', () => {
    expect(interfaceAddress('docker1', sources())).toBeUndefined();
    expect(interfaceAddress('docker0', sources({}, {}))).toBeUndefined();
    expect(interfaceAddress('docker0', sources({}, { '/proc/net/route': ROUTE, '/proc/net/fib_trie': '' }))).toBeUndefined();
    expect(interfaceAddress('docker0', sources({}, { '/proc/net/route': 'docker0 zz 00000000', '/proc/net/fib_trie': FIB_TRIE }))).toBeUndefined();
  });
});

describe('bridgeAddress: where else the appliance listens so that containers reach it', () => {
  it.each([
    ['auto, on loopback: the docker0 address', { host: '127.0.0.1', bridgeHost: 'auto' }, '172.17.0.1'],
    ['auto, on every address already: none', { host: '0.0.0.0', bridgeHost: 'auto' }, undefined],
    ['auto, on the bridge address itself: none', { host: '172.17.0.1', bridgeHost: 'auto' }, undefined],
    ['off: none', { host: '127.0.0.1', bridgeHost: 'off' }, undefined],
    ['an address: that one', { host: '127.0.0.1', bridgeHost: '10.0.5.1' }, '10.0.5.1'],
  ])('%s', (_name, config, expected) => {
    expect(bridgeAddress(config, sources())).toBe(expected);
  });

  it('auto without Docker: none', () => {
    expect(bridgeAddress({ host: '127.0.0.1', bridgeHost: 'auto' }, sources({}, {}))).toBeUndefined();
  });

  it('is a setting: auto by default, off or an IPv4 address from the environment, anything else one clear line', () => {
    expect(loadConfig({}, {}).bridgeHost).toBe('auto');
    expect(loadConfig({}, { TRAINYARD_BRIDGE_HOST: 'off' }).bridgeHost).toBe('off');
    expect(loadConfig({ bridgeHost: '172.18.0.1' }, {}).bridgeHost).toBe('172.18.0.1');
    expect(() => loadConfig({}, { TRAINYARD_BRIDGE_HOST: 'docker0' })).toThrow(
      'invalid setting bridgeHost (TRAINYARD_BRIDGE_HOST): use auto, off or an IPv4 address like 172.17.0.1',
    );
  });
});
