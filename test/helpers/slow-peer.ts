import net from 'node:net';

/** How the peer treats idle sessions: hang up silently, or say 421 first (as many servers do). */
export interface PeerOptions {
  idleClose?: { afterMs: number; say421?: boolean };
  /**
   * Take one message per connection, then hang up on the next command (with a 421 or without a
   * word): what a client sees when the server timed out the session just as it was reused.
   */
  oneMessagePerConnection?: { say421?: boolean };
}

/**
 * A slow remote SMTP server: it answers the end of each message only after `delayMs`, so a
 * crash of the sender lands while deliveries are in flight. It records every message it took,
 * the connections it was given, and the most messages it was handling at once.
 */
export function slowPeer(delayMs: number, opts: PeerOptions = {}) {
  const received: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.on('error', () => {});
    s.write('220 slow.peer.test ESMTP\r\n');
    let buf = '';
    let data = false;
    let idle: NodeJS.Timeout | null = null;
    let took = 0;
    const armIdle = () => {
      const close = opts.idleClose;
      if (!close) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        if (close.say421) s.end('421 4.4.2 slow.peer.test Idle timeout, closing\r\n');
        else s.destroy();
      }, close.afterMs);
    };
    armIdle();
    s.on('close', () => idle && clearTimeout(idle));
    s.on('data', (d) => {
      armIdle();
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
            took++;
            s.write('250 2.0.0 Ok\r\n');
            armIdle();
          }, delayMs);
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        const once = opts.oneMessagePerConnection;
        if (once && took > 0 && !line.startsWith('QUIT')) {
          if (once.say421) s.end('421 4.4.2 slow.peer.test Timeout, closing\r\n');
          else s.destroy();
          return;
        }
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
  return { server, received, maxInFlight: () => maxInFlight, connections: () => connections };
}
