import { describe, expect, it } from 'vitest';
import { milterCodec } from '../../src/policy/scanners/index.js';

const {
  Cmd,
  PacketDecoder,
  cstrings,
  decodeOptneg,
  encodeConnect,
  encodeMacros,
  encodeOptneg,
  encodePacket,
  parseReplyCode,
  splitCStrings,
} = milterCodec;

const hex = (b: Buffer) => b.toString('hex');

describe('milter packet codec', () => {
  it('frames a packet as length (command octet included), command, data', () => {
    expect(hex(encodePacket('c'))).toBe('0000000163');
    expect(hex(encodePacket(Cmd.HELO, cstrings('client.example')))).toBe(
      `0000001048${Buffer.from('client.example\0').toString('hex')}`,
    );
  });

  it('encodes option negotiation as version, actions, protocol (big-endian)', () => {
    expect(hex(encodeOptneg(6, 0x33, 0x1fffff))).toBe('0000000d' + '4f' + '00000006' + '00000033' + '001fffff');
    expect(decodeOptneg(Buffer.from('000000060000000100100080', 'hex'))).toEqual({
      version: 6,
      actions: 1,
      protocol: 0x100080,
    });
    // Macro lists after the three words (SETSYMLIST) are ignored.
    expect(decodeOptneg(Buffer.concat([Buffer.alloc(12), Buffer.from('\0\0\0\x02{auth_authen}\0')])).version).toBe(0);
    expect(() => decodeOptneg(Buffer.alloc(8))).toThrow(/short/);
  });

  it('encodes SMFIC_CONNECT for IPv4, IPv6 and unknown families', () => {
    const v4 = encodeConnect('[192.0.2.1]', '192.0.2.1', 25);
    expect(v4.subarray(4).toString('latin1')).toBe('C[192.0.2.1]\x004\x00\x19192.0.2.1\0');
    const v6 = encodeConnect('[::1]', '::1', 587);
    expect(v6.subarray(4).toString('latin1')).toBe('C[::1]\x006\x02\x4b::1\0');
    expect(encodeConnect('localhost', 'unknown', 0).subarray(4).toString('latin1')).toBe('Clocalhost\0U');
  });

  it('encodes macros for a command, leaving out unset ones', () => {
    const p = encodeMacros(Cmd.MAIL, { i: 'Q1', '{auth_authen}': undefined, '{mail_addr}': 'a@b' });
    expect(p.subarray(4).toString('latin1')).toBe('DMi\0Q1\0{mail_addr}\0a@b\0');
  });

  it('decodes packets split at every offset and several in one chunk', () => {
    const wire = Buffer.concat([
      encodePacket('h', cstrings('X-A', ' 1')),
      encodePacket('c'),
      encodePacket('y', cstrings('550 5.7.1 no')),
    ]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new PacketDecoder();
      const got: string[] = [];
      for (const part of [wire.subarray(0, cut), wire.subarray(cut)]) {
        d.push(part);
        for (let p = d.next(); p; p = d.next()) got.push(`${p.cmd}:${splitCStrings(p.data).join('|')}`);
      }
      expect(got).toEqual(['h:X-A| 1', 'c:', 'y:550 5.7.1 no']);
    }
  });

  it('refuses a zero or huge length instead of buffering forever', () => {
    const d = new PacketDecoder();
    d.push(Buffer.from('00000000', 'hex'));
    expect(() => d.next()).toThrow(/bad packet length 0/);
    const e = new PacketDecoder();
    e.push(Buffer.from('7fffffff63', 'hex'));
    expect(() => e.next()).toThrow(/bad packet length/);
  });

  it('splits NUL-terminated strings, tolerating a missing last NUL', () => {
    expect(splitCStrings(Buffer.from('a\0b\0'))).toEqual(['a', 'b']);
    expect(splitCStrings(Buffer.from('a\0b'))).toEqual(['a', 'b']);
    expect(splitCStrings(Buffer.from(''))).toEqual([]);
  });

  it('parses SMFIR_REPLYCODE, with and without an enhanced code, single and multi-line', () => {
    expect(parseReplyCode(cstrings('554 5.7.1 Spam'))).toEqual({ code: 554, enhanced: '5.7.1', lines: ['Spam'] });
    expect(parseReplyCode(cstrings('451 Try later'))).toEqual({ code: 451, enhanced: null, lines: ['Try later'] });
    expect(parseReplyCode(cstrings('550-5.7.1 one\r\n550 5.7.1 two'))).toEqual({
      code: 550,
      enhanced: '5.7.1',
      lines: ['one', 'two'],
    });
    // An enhanced code whose class does not match the reply code is dropped rather than sent.
    expect(parseReplyCode(cstrings('550 4.7.1 odd'))?.enhanced).toBeNull();
    expect(parseReplyCode(cstrings('250 ok'))).toBeNull();
    expect(parseReplyCode(cstrings('garbage'))).toBeNull();
  });
});
