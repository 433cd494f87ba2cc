import type { MailboxChange, MailboxNotifier } from '../mailbox/index.js';
import type { Mailbox, MailboxMessage } from '../store/index.js';
import { flagList } from './flags.js';

/**
 * A session's view of its selected mailbox: the UIDs in sequence-number order as the client
 * last heard them, and changes from other sessions (and deliveries) waiting to be announced.
 * Sequence numbers only change when this session sends EXISTS or EXPUNGE (RFC 3501 7.4.1).
 */
export class SelectedMailbox {
  /** UIDs in sequence order (index + 1 = sequence number). */
  uids: number[];
  private readonly pendingNew = new Map<number, MailboxMessage>();
  private readonly pendingFlags = new Map<number, MailboxMessage>();
  private readonly pendingExpunged = new Set<number>();
  private readonly stop: () => void;
  /** Called when something is waiting (IDLE sends it at once). */
  onChange: (() => void) | null = null;
  highestModseq: number;

  constructor(
    readonly mailbox: Mailbox,
    messages: MailboxMessage[],
    readonly readOnly: boolean,
    notifier: MailboxNotifier,
    private readonly origin: unknown,
  ) {
    this.uids = messages.map((m) => m.uid);
    this.highestModseq = mailbox.highestModseq;
    this.stop = notifier.subscribe(mailbox.id, (c) => this.changed(c));
  }

  /** Stop listening (at CLOSE, UNSELECT, another SELECT or logout). */
  close(): void {
    this.stop();
  }

  get exists(): number {
    return this.uids.length;
  }

  get maxUid(): number {
    return this.uids[this.uids.length - 1] ?? 0;
  }

  /** Sequence number of a UID, or 0. */
  seqOf(uid: number): number {
    // UIDs are ascending: binary search.
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  private changed(c: MailboxChange): void {
    if (c.type === 'exists') {
      for (const m of c.messages) if (m.uid > this.maxUid) this.pendingNew.set(m.uid, m);
    } else if (c.type === 'flags') {
      if (c.origin === this.origin) return;
      for (const m of c.messages) this.pendingFlags.set(m.uid, m);
    } else {
      if (c.origin === this.origin) return;
      for (const uid of c.uids) {
        this.pendingNew.delete(uid);
        this.pendingExpunged.add(uid);
      }
    }
    if ('modseq' in c) this.highestModseq = Math.max(this.highestModseq, c.modseq);
    if ('messages' in c) for (const m of c.messages) this.highestModseq = Math.max(this.highestModseq, m.modseq);
    this.onChange?.();
  }

  /** Whether there is anything to announce. */
  get hasPending(): boolean {
    return this.pendingNew.size > 0 || this.pendingFlags.size > 0 || this.pendingExpunged.size > 0;
  }

  /** Remove UIDs this session expunged itself; returns their sequence numbers as sent (descending order applied). */
  removeOwn(uids: readonly number[]): number[] {
    const seqs: number[] = [];
    const gone = new Set(uids);
    // Announce from the highest sequence number down so earlier numbers stay valid while reading.
    for (let i = this.uids.length - 1; i >= 0; i--) {
      if (gone.has(this.uids[i]!)) {
        seqs.push(i + 1);
        this.uids.splice(i, 1);
      }
    }
    return seqs;
  }

  /**
   * The untagged responses for waiting changes. `expunges` false holds back EXPUNGE (not allowed
   * during FETCH, STORE and SEARCH by sequence number, RFC 3501 7.4.1).
   */
  flush(opts: { expunges: boolean; condstore: boolean; qresync: boolean }): string[] {
    const out: string[] = [];
    if (opts.expunges && this.pendingExpunged.size > 0) {
      const gone = [...this.pendingExpunged].filter((u) => this.seqOf(u) > 0);
      this.pendingExpunged.clear();
      if (opts.qresync) {
        const seqs = this.removeOwn(gone);
        if (seqs.length > 0) out.push(`* VANISHED ${formatUids(gone)}`);
      } else for (const seq of this.removeOwn(gone)) out.push(`* ${seq} EXPUNGE`);
    }
    for (const [uid, m] of this.pendingFlags) {
      const seq = this.seqOf(uid);
      if (seq === 0) continue;
      const modseq = opts.condstore ? ` MODSEQ (${m.modseq})` : '';
      out.push(`* ${seq} FETCH (UID ${uid} FLAGS ${flagList(m.flags)}${modseq})`);
    }
    this.pendingFlags.clear();
    if (this.pendingNew.size > 0) {
      const added = [...this.pendingNew.keys()].filter((u) => u > this.maxUid).sort((a, b) => a - b);
      this.pendingNew.clear();
      if (added.length > 0) {
        this.uids.push(...added);
        out.push(`* ${this.uids.length} EXISTS`);
      }
    }
    return out;
  }
}

function formatUids(uids: number[]): string {
  return [...uids]
    .sort((a, b) => a - b)
    .map(String)
    .join(',');
}
