import net from 'node:net';

/**
 * A slow remote SMTP server: it answers the end of each message only after `delayMs`, so a
 * crash of the sender lands while deliveries are in flight. It records every message it took.
 */
export function slowPeer(delayMs: number) {
  const received: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.write('220 slow.peer.test ESMTP\r\n');
    let buf = '';
    let data = false;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const token = /Subject: (\S+)/.exec(buf.slice(0, end))?.[1] ?? '?';
          buf = buf.slice(end + 5);
          data = false;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          setTimeout(() => {
            inFlight--;
            // Counted as delivered only once the 250 is written, as the sender sees it.
            received.push(token);
            s.write('250 2.0.0 Ok\r\n');
          }, delayMs);
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        if (line.startsWith('EHLO')) s.write('250-slow.peer.test\r\n250 8BITMIME\r\n');
        else if (line.startsWith('DATA')) {
          data = true;
          s.write('354 go ahead\r\n');
        } else if (line.startsWith('QUIT')) {
          s.end('221 bye\r\n');
          return;
        } else s.write('250 2.0.0 Ok\r\n');
      }
    });
  });
  return { server, received, maxInFlight: () => maxInFlight };
}
