// mailauth ships types for its public entry points only; these are the parts of its DKIM signer
// that src/dkim/sign.ts uses directly (see there for why), typed as far as we rely on them.

declare module 'mailauth/lib/tools.js' {
  interface ParsedHeaderLine {
    /** Lower-case field name. */
    key: string | null;
    /** Field name as written. */
    casedKey: string | undefined;
    /** The whole field, folded as in the message, without the final CRLF. */
    line: Buffer;
  }
  const tools: {
    parseHeaders(buf: Buffer): { parsed: ParsedHeaderLine[]; original: Buffer };
    formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
  };
  export default tools;
}

declare module 'mailauth/lib/dkim/body/index.js' {
  interface BodyHasher {
    update(chunk: Buffer): void;
    digest(encoding: 'base64'): string;
  }
  const body: { dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: false): BodyHasher };
  export default body;
}

declare module 'mailauth/lib/dkim/header/relaxed.js' {
  const relaxed: {
    relaxedHeaders(
      type: 'DKIM',
      signingHeaderLines: { keys: string; headers: { line: Buffer }[] },
      options: {
        signingDomain: string;
        selector: string;
        algorithm: string;
        canonicalization: string;
        bodyHash: string;
        signTime: Date;
      },
    ): { canonicalizedHeader: Buffer; signatureHeaderLine: string; dkimHeaderOpts: Record<string, unknown> };
  };
  export default relaxed;
}
