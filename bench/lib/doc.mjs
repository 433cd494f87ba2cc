// docs/benchmarks.md holds one generated block per benchmark between markers; each benchmark
// rewrites only its own block, so the hand-written analysis around the blocks survives re-runs.

import fs from 'node:fs';

const begin = (key) => `<!-- bench:${key} (generated: edits between these markers are overwritten) -->`;
const end = (key) => `<!-- /bench:${key} -->`;

const PLACEHOLDER = (title) => `## ${title}

_Placeholder, to be written by hand from the numbers above (this section survives re-runs)._
`;

/**
 * Replace the `key` block of the document at `file` with `text`. A block not there yet is added
 * before "## Running it" (or at the end), followed by a placeholder for its analysis.
 */
export function writeSection(file, key, text, analysisTitle = `${key}: where the time goes`) {
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${begin(key)}\n${text.trim()}\n${end(key)}`;
  const start = doc.indexOf(begin(key));
  const stop = doc.indexOf(end(key));
  let out;
  if (start >= 0 && stop > start) {
    out = doc.slice(0, start) + block + doc.slice(stop + end(key).length);
  } else {
    const added = `${block}\n\n${PLACEHOLDER(analysisTitle)}`;
    const at = doc.indexOf('\n## Running it');
    out = at < 0 ? `${doc.trimEnd()}\n\n${added}` : `${doc.slice(0, at + 1)}${added}\n${doc.slice(at + 1)}`;
  }
  fs.writeFileSync(file, out);
}
