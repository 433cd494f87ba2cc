import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import { collect, type RunResult } from '../helpers/run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainTs = path.join(root, 'src/cli/main.ts');
// An absolute loader URL, because the child's cwd is a temp dir with no node_modules.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export type CliResult = RunResult;

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; stdin is closed empty when absent. */
  input?: string;
  timeoutMs?: number;
}

/** The environment without any MAILROOM_* variables the developer or CI may have set. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MAILROOM_')) env[k] = v;
  return { ...env, ...extra };
}

/** Start `mailroom ARGS` as a child process (stdin, stdout, stderr piped). */
export function spawnCli(args: string[], opts: Omit<RunOptions, 'input' | 'timeoutMs'>) {
  const [cmd, ...rest] = cliCommand(args);
  return spawn(cmd!, rest, {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The command line that runs `mailroom ARGS` (for drivers such as test/cli/pty-driver.py). */
export function cliCommand(args: string[]): string[] {
  return [process.execPath, '--import', tsxLoader, mainTs, ...args];
}

/** Run `mailroom ARGS` to completion and collect its output. */
export function runCli(args: string[], opts: RunOptions): Promise<CliResult> {
  return collect(spawnCli(args, opts), opts.input ?? '', opts.timeoutMs ?? 20_000, `mailroom ${args.join(' ')}`);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh working directory, with `mailroom.yaml` holding `yaml` when given. Removed after the file's tests. */
export function workdir(yaml?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-cli-'));
  dirs.push(dir);
  if (yaml !== undefined) fs.writeFileSync(path.join(dir, 'mailroom.yaml'), yaml);
  return dir;
}

/** Lines of text, without the empty one after the final newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
