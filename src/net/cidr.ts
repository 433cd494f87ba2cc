import net from 'node:net';

/** A set of IP ranges, e.g. relay.networks. */
export class CidrSet {
  private readonly list = new net.BlockList();

  constructor(ranges: readonly string[]) {
    for (const r of ranges) {
      const [addr, bits] = r.split('/') as [string, string | undefined];
      const family = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
  }

  /** Whether the address (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of the ranges. */
  has(ip: string): boolean {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (v4) return this.list.check(v4, 'ipv4');
    return this.list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
  }
}
