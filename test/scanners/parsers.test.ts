import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyEdits,
  ClamdScanner,
  combineVerdicts,
  failureVerdict,
  instreamFrames,
  parseClamdReply,
  parseRspamdResponse,
  parseSocketAddress,
  RspamdScanner,
  rspamdVerdict,
  type ScanInput,
  splitMessage,
} from '../../src/policy/scanners/index.js';

const input = (message: string, extra: Partial<ScanInput> = {}): ScanInput => ({
  message: Buffer.from(message),
  queueId: 'Q123',
  mailFrom: 'bob@sender.example',
  recipients: ['alice@example.test', 'jörg@example.test'],
  client: { ip: '192.0.2.7', port: 40000, helo: 'sender.example', tls: 'TLSv1.3 TLS_AES_256_GCM_SHA384' },
  user: null,
  hostname: 'mx.test',
  ...extra,
});

let closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers) c();
  closers = [];
});

/** Listen on a loopback port; the server and its connections are torn down after the test. */
async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

describe('clamd replies', () => {
  it('parses OK, FOUND and errors, with or without the NUL and a session id', () => {
    expect(parseClamdReply('stream: OK\0')).toEqual({ clean: true });
    expect(parseClamdReply('stream: Eicar-Signature FOUND\0')).toEqual({ clean: false, virus: 'Eicar-Signature' });
    expect(parseClamdReply('1: stream: Win.Test.EICAR_HDB-1 FOUND')).toEqual({
      clean: false,
      virus: 'Win.Test.EICAR_HDB-1',
    });
    expect(parseClamdReply('INSTREAM size limit exceeded. ERROR\0')).toEqual({
      error: 'INSTREAM size limit exceeded. ERROR',
    });
    expect(parseClamdReply('')).toEqual({ error: 'empty reply' });
  });

  it('keeps a virus name from breaking the SMTP reply', () => {
    expect(parseClamdReply('stream: Bad\r\nName FOUND\0')).toEqual({ clean: false, virus: 'Bad__Name' });
  });

  it('frames INSTREAM as length-prefixed chunks ending with a zero length', () => {
    const frames = instreamFrames(Buffer.alloc(70_000, 0x61));
    expect(frames[0]?.toString('latin1')).toBe('zINSTREAM\0');
    expect(frames.slice(1).map((f) => f.length)).toEqual([4, 65_536, 4, 70_000 - 65_536, 4]);
    expect(frames[1]?.readUInt32BE(0)).toBe(65_536);
    expect(frames.at(-1)?.readUInt32BE(0)).toBe(0);
  });

  it('a clamd that hangs up without answering is a failure', async () => {
    const port = await listen(net.createServer((s) => s.end()));
    const scanner = new ClamdScanner(`127.0.0.1:${port}`, 5000, 'accept', 1024);
    await expect(scanner.scan(input('Subject: x\r\n\r\nhi\r\n'), AbortSignal.timeout(5000))).rejects.toThrow(
      /empty reply/,
    );
  });
});

describe('rspamd answers', () => {
  const answer = (o: Record<string, unknown>) =>
    parseRspamdResponse(JSON.stringify({ score: 1, required_score: 15, symbols: {}, ...o }));

  it('maps each action to a verdict and the SMTP replies of the issue', () => {
    expect(rspamdVerdict(answer({ action: 'reject' }))).toMatchObject({
      action: 'reject',
      reply: { code: 554, enhanced: '5.7.1', lines: ['Message rejected as spam'] },
    });
    expect(rspamdVerdict(answer({ action: 'soft reject' }))).toMatchObject({
      action: 'tempfail',
      reply: { code: 451, enhanced: '4.7.1' },
    });
    expect(rspamdVerdict(answer({ action: 'greylist' }))).toMatchObject({
      action: 'tempfail',
      reply: { code: 451, enhanced: '4.7.1', lines: ['Greylisted, try again later'] },
    });
    expect(rspamdVerdict(answer({ action: 'no action' })).action).toBe('accept');
    expect(rspamdVerdict(answer({ action: 'some future action' })).action).toBe('accept');
  });

  it('tags with X-Spam-* headers and the score; add header flags it', () => {
    const v = rspamdVerdict(answer({ action: 'add header', score: 7.5, symbols: { B: {}, A: {} } }));
    expect(v.headers).toEqual([
      ['X-Spam-Status', 'Yes, score=7.50 required=15.00'],
      ['X-Spam-Score', '7.50'],
      ['X-Spam-Action', 'add header'],
      ['X-Spam-Symbols', 'A, B'],
      ['X-Spam-Flag', 'YES'],
    ]);
  });

  it("adds the milter_headers module's headers and rewrites the subject", () => {
    const r = answer({
      action: 'rewrite subject',
      subject: '[SPAM] hi',
      milter: { add_headers: { 'X-Spamd-Bar': '+++', 'X-Rspamd-Server': { value: 'r1', order: 0 }, 'bad name': 'x' } },
    });
    const v = rspamdVerdict(r);
    expect(v.headers).toContainEqual(['X-Spamd-Bar', '+++']);
    expect(v.headers).toContainEqual(['X-Rspamd-Server', 'r1']);
    expect(v.headers.some(([n]) => n === 'bad name')).toBe(false);
    expect(v.edits).toEqual([{ op: 'change', index: 1, name: 'Subject', value: ' [SPAM] hi' }]);
  });

  it('refuses answers that are not rspamd results', () => {
    expect(() => parseRspamdResponse('<html>')).toThrow(/not JSON/);
    expect(() => parseRspamdResponse('{"error":"bad request"}')).toThrow(/bad request/);
    expect(() => parseRspamdResponse('{"score":1}')).toThrow(/no action/);
  });

  it('posts the message to /checkv2 with the envelope as headers (repeated Rcpt, raw UTF-8)', async () => {
    let seen: { url?: string; headers: string[]; body: string } = { headers: [], body: '' };
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { url: req.url, headers: req.rawHeaders, body: Buffer.concat(chunks).toString() };
        res.end(JSON.stringify({ action: 'no action', score: 0.5, required_score: 15, symbols: {} }));
      });
    });
    const port = await listen(server);
    const v = await new RspamdScanner(`http://127.0.0.1:${port}/`, 5000, 'accept').scan(
      input('Subject: x\r\n\r\nhi\r\n', { user: 'bob@sender.example' }),
      AbortSignal.timeout(5000),
    );
    expect(v.action).toBe('accept');
    expect(seen.url).toBe('/checkv2');
    expect(seen.body).toBe('Subject: x\r\n\r\nhi\r\n');
    const pairs: string[] = [];
    for (let i = 0; i < seen.headers.length; i += 2) pairs.push(`${seen.headers[i]}: ${seen.headers[i + 1]}`);
    expect(pairs).toEqual(
      expect.arrayContaining([
        'IP: 192.0.2.7',
        'From: bob@sender.example',
        'Rcpt: alice@example.test',
        `Rcpt: ${Buffer.from('jörg@example.test').toString('latin1')}`,
        'Helo: sender.example',
        'User: bob@sender.example',
        'Queue-Id: Q123',
        'MTA-Name: mx.test',
      ]),
    );
  });

  it('an HTTP error is a failure', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 500;
      res.end('oops');
    });
    const port = await listen(server);
    const scanner = new RspamdScanner(`http://127.0.0.1:${port}`, 5000, 'accept');
    await expect(scanner.scan(input('x'), AbortSignal.timeout(5000))).rejects.toThrow(/HTTP 500/);
  });
});

describe('combining verdicts', () => {
  it('the most severe action wins; headers add up in scanner order', () => {
    const v = combineVerdicts([
      { action: 'accept', headers: [['X-A', '1']], reason: 'a' },
      { action: 'quarantine', headers: [['X-B', '2']], reason: 'b' },
      { action: 'accept', headers: [['X-C', '3']] },
    ]);
    expect(v).toMatchObject({
      action: 'quarantine',
      reason: 'b',
      headers: [
        ['X-A', '1'],
        ['X-B', '2'],
        ['X-C', '3'],
      ],
    });
    expect(
      combineVerdicts([
        { action: 'discard', headers: [] },
        { action: 'tempfail', headers: [] },
      ]).action,
    ).toBe('tempfail');
    const r = combineVerdicts([
      { action: 'tempfail', headers: [] },
      { action: 'reject', headers: [], reply: { code: 554, enhanced: '5.7.1', lines: ['Virus found: X'] } },
    ]);
    expect(r.reply?.lines).toEqual(['Virus found: X']);
    expect(combineVerdicts([]).action).toBe('accept');
  });

  it('failure policies: accept tags, tempfail and reject answer', () => {
    expect(failureVerdict({ name: 'clamd', failure: 'accept' }, 'timed out')).toMatchObject({
      action: 'accept',
      headers: [['X-Scan-Failed', 'clamd: timed out']],
    });
    expect(failureVerdict({ name: 'clamd', failure: 'tempfail' }, 'x').reply?.code).toBe(451);
    expect(failureVerdict({ name: 'clamd', failure: 'reject' }, 'x').reply?.code).toBe(554);
  });
});

describe('message edits', () => {
  const msg = Buffer.from('Received: from a\r\n\tby b\r\nSubject: hi\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\nbody\r\n');

  it('splits folded fields and keeps the exact bytes', () => {
    const s = splitMessage(msg);
    expect(s.fields.map((f) => f.name)).toEqual(['Received', 'Subject', 'X-Dup', 'X-Dup']);
    expect(s.fields[0]?.value).toBe(' from a\r\n\tby b');
    expect(s.rest.toString()).toBe('\r\nbody\r\n');
  });

  it('changes the n-th field of a name, deletes with an empty value, and prepends', () => {
    const out = applyEdits(
      msg,
      [
        { op: 'change', index: 2, name: 'x-dup', value: ' two' },
        { op: 'change', index: 1, name: 'Subject', value: '' },
        { op: 'insert', index: 1, name: 'X-Ins', value: 'no space' },
      ],
      [['X-Top', 'line\r\nbreak']],
    );
    expect(out.toString()).toBe(
      'X-Top: line break\r\nReceived: from a\r\n\tby b\r\nX-Ins: no space\r\nX-Dup: 1\r\nx-dup: two\r\n\r\nbody\r\n',
    );
  });

  it('a milter value with LF folding becomes CRLF; an unchanged message is returned as is', () => {
    const out = applyEdits(msg, [{ op: 'add', name: 'X-F', value: ' a\n\tb' }], []);
    expect(out.toString()).toContain('X-Dup: 2\r\nX-F: a\r\n\tb\r\n\r\nbody');
    expect(applyEdits(msg, [], [])).toBe(msg);
  });
});

describe('scanner addresses', () => {
  it('parses host:port, [v6]:port, inet:port@host, unix: and paths', () => {
    expect(parseSocketAddress('127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseSocketAddress('[::1]:11332')).toEqual({ host: '::1', port: 11332 });
    expect(parseSocketAddress('inet:8891@localhost')).toEqual({ host: 'localhost', port: 8891 });
    expect(parseSocketAddress('unix:/run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' });
    expect(parseSocketAddress('/run/opendkim.sock')).toEqual({ path: '/run/opendkim.sock' });
    expect(parseSocketAddress('localhost')).toBeNull();
    expect(parseSocketAddress('host:99999')).toBeNull();
  });
});
