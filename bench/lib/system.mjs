// What the benchmark ran on: CPU, memory, OS, Node, Postfix, the data directory's file system
// and how long an fdatasync takes there.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FS_TYPES = {
  61267: 'ext4',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
  26985: 'nfs',
  61791: 'ecryptfs',
  1702057286: 'fuse',
};

function fsType(dir) {
  try {
    const { type } = fs.statfsSync(dir);
    return FS_TYPES[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function postfixVersion(postconf) {
  if (!postconf) return null;
  try {
    const out = execFileSync(postconf, ['-d', 'mail_version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('=')[1]?.trim() || null;
  } catch {
    return null;
  }
}

/** Median time of `count` × (write `size` bytes, fdatasync) in `dir`: the disk's commit latency. */
function fsyncProbe(dir, count = 100, size = 10_240) {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(size, 0x78);
  const times = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint();
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], p90Ms: times[Math.floor(times.length * 0.9)] };
}

export function describeSystem({ dataDir, postconf }) {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    cpuMHz: cpus[0]?.speed ?? null,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postfix: postfixVersion(postconf),
    dataDir,
    dataFs: fsType(dataDir),
    fsync: fsyncProbe(dataDir),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
