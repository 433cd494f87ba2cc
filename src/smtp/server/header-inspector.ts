/**
 * Watches the start of a message body to count `Received:` headers (mail loop detection)
 * without holding the header in memory: only the first few bytes of each line are kept.
 */
export class HeaderInspector {
  private inHeader = true;
  private atLineStart = true;
  private prefix = '';
  private received = 0;

  /** Number of Received: header fields seen in the header section. */
  get receivedCount(): number {
    return this.received;
  }

  /** Feed decoded body bytes (CRLF line endings). */
  push(chunk: Buffer): void {
    if (!this.inHeader) return;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.atLineStart) {
        if (b === 0x0d || b === 0x0a) {
          // An empty line ends the header section.
          this.inHeader = false;
          return;
        }
        this.atLineStart = false;
        this.prefix = '';
      }
      if (b === 0x0a) {
        this.atLineStart = true;
        continue;
      }
      if (this.prefix.length < 9) {
        this.prefix += String.fromCharCode(b);
        if (this.prefix.length === 9 && this.prefix.toLowerCase() === 'received:') this.received++;
      }
    }
  }
}
