import { CliError } from './output.js';

const MAX_LINE = 4096;

/**
 * Get a new password: the first line of stdin when asked to or when stdin is not a terminal,
 * otherwise typed twice on the terminal without echo.
 */
export async function readNewPassword(opts: { fromStdin?: boolean }): Promise<string> {
  const stdin = process.stdin;
  if (opts.fromStdin || !stdin.isTTY) {
    const line = await readFirstLine(stdin);
    if (!line) {
      throw new CliError(
        'no password on stdin; send it as the first line, or run the command in a terminal to type it',
      );
    }
    return line;
  }
  const first = await promptHidden('New password: ');
  if (!first) throw new CliError('the password is empty; run the command again and type one');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new CliError('the passwords do not match; run the command again');
  return first;
}

/** The first line of a stream without its line ending, or '' when the stream is empty. */
export async function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream) {
    text += chunk as string;
    const eol = text.indexOf('\n');
    if (eol >= 0) {
      text = text.slice(0, eol);
      break;
    }
    if (text.length > MAX_LINE) throw new CliError(`the password line is longer than ${MAX_LINE} characters`);
  }
  return text.replace(/\r$/, '');
}

// Raw mode delivers keystrokes one by one so nothing is echoed; we handle editing keys ourselves.
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw mode before the prompt, so a fast typist's first keys are not echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      // Drop escape sequences (arrow keys and the like) so they do not end up in the password.
      for (const ch of chunk.replace(/\x1b\[[0-9;]*[A-Za-z~]|\x1b./g, '')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(null);
        if (ch === '\u0003') return finish(new CliError('cancelled; nothing was changed', 130));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
