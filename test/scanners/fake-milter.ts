import net from 'node:net';
import { milterCodec } from '../../src/policy/scanners/index.js';

const { Cmd, PacketDecoder, encodePacket, Proto } = milterCodec;

/** A packet as the test milter saw it. */
export interface Seen {
  cmd: string;
  data: Buffer;
}

/** How the test milter behaves. */
export interface MilterScript {
  /** Protocol flags it asks for in negotiation (default: HDR_LEADSPC | NR_HDR). */
  protocol?: number;
  /** Its answer to one RCPT (default: continue). */
  rcpt?: (address: string) => Buffer;
  /** Its answer to connect (C), HELO (H), MAIL (M), DATA (T), end of header (N) or a body chunk (B); default continue. */
  answer?: Partial<Record<string, Buffer>>;
  /** What it sends at end of message: modification packets, then a final answer. `null`: never answers. */
  eom: Buffer[] | null;
}

/** A scripted milter on a loopback port; it records every packet the MTA sends. */
export interface FakeMilter {
  address: string;
  /** Packets of every connection, in order. */
  seen: Seen[][];
  close(): Promise<void>;
}

/** Start a test milter speaking the milter protocol through our own codec. */
export async function startFakeMilter(script: MilterScript): Promise<FakeMilter> {
  const seen: Seen[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const mine: Seen[] = [];
    seen.push(mine);
    const decoder = new PacketDecoder();
    const protocol = script.protocol ?? Proto.HDR_LEADSPC | Proto.NR_HDR;
    const cont = encodePacket('c');
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let p = decoder.next(); p; p = decoder.next()) {
        mine.push(p);
        switch (p.cmd) {
          case Cmd.OPTNEG: {
            const b = Buffer.alloc(12);
            b.writeUInt32BE(6, 0);
            b.writeUInt32BE(p.data.readUInt32BE(4), 4);
            b.writeUInt32BE(protocol, 8);
            socket.write(encodePacket('O', b));
            break;
          }
          case Cmd.MACRO:
          case Cmd.QUIT:
          case Cmd.ABORT:
            break;
          case Cmd.HEADER:
            if (!(protocol & Proto.NR_HDR)) socket.write(cont);
            break;
          case Cmd.RCPT: {
            const address = p.data.toString('utf8').replace(/\0$/, '').replace(/^<|>$/g, '');
            socket.write(script.rcpt ? script.rcpt(address) : cont);
            break;
          }
          case Cmd.BODYEOB:
            if (script.eom) for (const packet of script.eom) socket.write(packet);
            break;
          default:
            socket.write(script.answer?.[p.cmd] ?? cont);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Modification and answer packets for scripts. */
export const reply = {
  accept: () => encodePacket('a'),
  continue: () => encodePacket('c'),
  reject: () => encodePacket('r'),
  tempfail: () => encodePacket('t'),
  discard: () => encodePacket('d'),
  skip: () => encodePacket('s'),
  replycode: (text: string) => encodePacket('y', Buffer.from(`${text}\0`)),
  quarantine: (reason: string) => encodePacket('q', Buffer.from(`${reason}\0`)),
  addHeader: (name: string, value: string) => encodePacket('h', Buffer.from(`${name}\0${value}\0`)),
  insertHeader: (index: number, name: string, value: string) => indexed('i', index, name, value),
  changeHeader: (index: number, name: string, value: string) => indexed('m', index, name, value),
  replaceBody: (body: string) => encodePacket('b', Buffer.from(body)),
};

function indexed(cmd: string, index: number, name: string, value: string): Buffer {
  const i = Buffer.alloc(4);
  i.writeUInt32BE(index);
  return encodePacket(cmd, Buffer.concat([i, Buffer.from(`${name}\0${value}\0`)]));
}
