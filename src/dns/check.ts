import type { DnsResolver } from './resolver.js';
import { NOT_FOUND_CODES } from './resolver.js';
import { type RequiredRecord, zoneLine } from './setup.js';

/** ok: as needed; missing: nothing there; wrong: something else there; error: the lookup failed. */
export type CheckStatus = 'ok' | 'missing' | 'wrong' | 'error';

/** A required record with what the live DNS says about it. */
export interface RecordCheck extends RequiredRecord {
  status: CheckStatus;
  /** What the lookup returned, in presentation form. */
  found: string[];
  /** What to change, for anything but `ok`. */
  fix: string | null;
}

interface Verdict {
  status: CheckStatus;
  found: string[];
  /** Why it is wrong, when it is. */
  problem?: string;
}

/** Look every record up through `resolver` and say whether it is there and right. */
export async function checkRecords(records: RequiredRecord[], resolver: DnsResolver): Promise<RecordCheck[]> {
  return Promise.all(
    records.map(async (record): Promise<RecordCheck> => {
      let verdict: Verdict;
      try {
        verdict = await check(record, resolver);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        verdict = { status: 'error', found: [], problem: `the lookup failed (${code})` };
      }
      return { ...record, ...verdict, fix: fixFor(record, verdict) };
    }),
  );
}

function fixFor(record: RequiredRecord, v: Verdict): string | null {
  if (v.status === 'ok') return null;
  if (record.value === null) return record.note ?? 'nothing to publish yet';
  const line = zoneLine(record);
  if (v.status === 'missing') return `add ${line}`;
  if (v.status === 'error') return `${v.problem}; check the DNS servers (dns.servers in mailroom.yaml), then try again`;
  return `${v.problem}; publish instead ${line}`;
}

async function check(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  if (record.value === null) return { status: 'missing', found: [] };
  switch (record.purpose) {
    case 'MX':
      return checkMx(record, r);
    case 'SRV':
      return checkSrv(record, r);
    case 'autoconfig':
      return checkCname(record, r);
    case 'DKIM':
      return checkDkim(record, r);
    default:
      return checkPolicyTxt(record, r);
  }
}

/** Lookup answers, with "no such name/record" as an empty list. */
async function orEmpty<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (err) {
    if (NOT_FOUND_CODES.includes((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/** The host name at the end of an MX/SRV/CNAME value. */
function target(value: string): string {
  return value.split(' ').pop() ?? '';
}

async function checkMx(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  const mx = await orEmpty(r.resolveMx(record.name));
  const found = mx.map((m) => `${m.priority} ${m.exchange}`);
  if (mx.length === 0) return { status: 'missing', found };
  if (mx.some((m) => sameHost(m.exchange, target(record.value!)))) return { status: 'ok', found };
  return { status: 'wrong', found, problem: `mail for ${record.name} goes to ${mx.map((m) => m.exchange).join(', ')}` };
}

async function checkSrv(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  const srv = await orEmpty(r.resolveSrv(record.name));
  const found = srv.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`);
  if (srv.length === 0) return { status: 'missing', found };
  const port = Number(record.value!.split(' ')[2]);
  if (srv.some((s) => sameHost(s.name, target(record.value!)) && s.port === port)) return { status: 'ok', found };
  return { status: 'wrong', found, problem: `it points at ${srv.map((s) => `${s.name || '.'}:${s.port}`).join(', ')}` };
}

async function checkCname(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  const want = target(record.value!);
  const cname = await orEmpty(r.resolveCname(record.name));
  if (cname.length > 0) {
    if (cname.some((c) => sameHost(c, want))) return { status: 'ok', found: cname };
    return { status: 'wrong', found: cname, problem: `it is an alias of ${cname.join(', ')}` };
  }
  // An address record works as well as the alias, as long as it is the mail server's address.
  const [have, expected] = await Promise.all([orEmpty(r.resolve4(record.name)), orEmpty(r.resolve4(want))]);
  if (have.length === 0) return { status: 'missing', found: [] };
  if (have.some((a) => expected.includes(a))) return { status: 'ok', found: have };
  return { status: 'wrong', found: have, problem: `its address ${have.join(', ')} is not the address of ${want}` };
}

/** `k=v; k=v` tags of a DKIM/DMARC/MTA-STS/TLS-RPT record, keys lower-case, values trimmed. */
export function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

async function checkDkim(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  const found = await orEmpty(r.resolveTxt(record.name));
  const keys = found.map(parseTags).filter((t) => t.has('p'));
  if (keys.length === 0)
    return { status: found.length === 0 ? 'missing' : 'wrong', found, problem: 'it has no p= key' };
  const want = parseTags(record.value!);
  const squash = (s: string | undefined) => (s ?? '').replace(/\s+/g, '');
  const match = keys.find((t) => squash(t.get('p')) === squash(want.get('p')));
  if (!match) return { status: 'wrong', found, problem: 'it publishes a different key than the one stored' };
  if ((match.get('k') ?? 'rsa').toLowerCase() !== want.get('k')) {
    return { status: 'wrong', found, problem: `its k= says ${match.get('k') ?? 'rsa (the default)'}` };
  }
  return { status: 'ok', found };
}

/** What each policy TXT record must start with, and a tag it cannot do without. */
const POLICY: Partial<Record<RequiredRecord['purpose'], { prefix: RegExp; tag: string; what: string }>> = {
  SPF: { prefix: /^v=spf1(\s|$)/i, tag: '', what: 'SPF' },
  DMARC: { prefix: /^v=DMARC1\s*(;|$)/i, tag: 'p', what: 'DMARC' },
  'MTA-STS': { prefix: /^v=STSv1\s*(;|$)/i, tag: 'id', what: 'MTA-STS' },
  'TLS-RPT': { prefix: /^v=TLSRPTv1\s*(;|$)/i, tag: 'rua', what: 'TLS-RPT' },
};

async function checkPolicyTxt(record: RequiredRecord, r: DnsResolver): Promise<Verdict> {
  const rule = POLICY[record.purpose];
  if (!rule) throw new Error(`no check for ${record.purpose} records`);
  const found = (await orEmpty(r.resolveTxt(record.name))).filter((t) => rule.prefix.test(t.trim()));
  if (found.length === 0) return { status: 'missing', found };
  if (found.length > 1) {
    return {
      status: 'wrong',
      found,
      problem: `there are ${found.length} ${rule.what} records and receivers ignore them all when there is more than one`,
    };
  }
  const text = found[0]!;
  if (record.purpose === 'SPF') return checkSpfTerms(record, text);
  if (!parseTags(text).get(rule.tag)) return { status: 'wrong', found, problem: `it has no ${rule.tag}= tag` };
  return { status: 'ok', found };
}

function checkSpfTerms(record: RequiredRecord, text: string): Verdict {
  const terms = text.trim().split(/\s+/).slice(1);
  const domain = record.name.toLowerCase();
  const authorizes = terms.some((t) => /^\+?mx$/i.test(t) || t.toLowerCase().replace(/^\+/, '') === `mx:${domain}`);
  if (terms.some((t) => /^\+?all$/i.test(t))) {
    return { status: 'wrong', found: [text], problem: '`+all` lets anyone send as the domain' };
  }
  if (!authorizes) {
    return {
      status: 'wrong',
      found: [text],
      problem: 'it does not authorize the MX hosts (no `mx` term; ignore this if it lists the server’s address itself)',
    };
  }
  return { status: 'ok', found: [text] };
}
