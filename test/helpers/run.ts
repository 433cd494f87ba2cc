import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Feed `input` to a child's stdin and collect its output until it exits (killed after `timeoutMs`). */
export function collect(
  child: ChildProcessWithoutNullStreams,
  input: Buffer | string,
  timeoutMs = 20_000,
  what = 'child process',
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.on('error', () => {}); // it may exit before reading everything
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish in ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Run a command with `input` on stdin; resolves with its output whatever the exit code. */
export function run(cmd: string[], input: Buffer | string = '', timeoutMs = 20_000): Promise<RunResult> {
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child, input, timeoutMs, cmd[0]);
}
