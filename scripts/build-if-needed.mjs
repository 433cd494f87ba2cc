#!/usr/bin/env node
// `npm start` runs this first: build dist/ when it is missing or older than any source file,
// so a fresh clone starts with `npm ci && npm start` and an edited tree never runs stale code.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const entry = path.join(root, 'dist', 'cli', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
const sources = Math.max(newestMtime(path.join(root, 'src')), fs.statSync(path.join(root, 'package.json')).mtimeMs);
if (built < sources) {
  process.stderr.write('mailroom: building (npm run build)...\n');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('mailroom: the build failed; run `npm ci` first, then `npm run build` to see the errors\n');
    process.exit(r.status ?? 1);
  }
  fs.utimesSync(entry, new Date(), new Date());
}
