import bcrypt from 'bcryptjs';

/** The streams `hash-password` talks to; `process.stdin/stdout/stderr` in production. */
export interface HashPasswordIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const DEFAULT_COST = 12;
const USAGE = 'usage: portico hash-password [--cost N]   (N from 4 to 31, default 12)\n';

/**
 * `portico hash-password [--cost N]` (SPEC §1): reads one line from stdin, or prompts without
 * echo on a TTY, and prints its bcrypt hash. Returns the exit code: 0 ok, 1 empty password or
 * unreadable input, 2 usage error. Uses the async `bcrypt.hash` (STYLE §2.14).
 */
export async function runHashPassword(args: readonly string[], io: HashPasswordIo): Promise<number> {
  const cost = parseCost(args);
  if (typeof cost === 'string') {
    io.stderr.write(`portico hash-password: ${cost}\n${USAGE}`);
    return 2;
  }
  let password: string;
  try {
    password = io.stdin.isTTY === true && io.stdin.setRawMode !== undefined
      ? await promptHidden(io)
      : await readLine(io.stdin);
  } catch (err) {
    io.stderr.write(`portico hash-password: ${(err as Error).message}\n`);
    return 1;
  }
  if (password === '') {
    io.stderr.write('portico hash-password: empty password\n');
    return 1;
  }
  io.stdout.write(`${await bcrypt.hash(password, cost)}\n`);
  return 0;
}

/** The cost from `--cost N` / `--cost=N`, or a message saying what is wrong. */
function parseCost(args: readonly string[]): number | string {
  let cost = DEFAULT_COST;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    let value: string | undefined;
    if (arg === '--cost') value = args[++i];
    else if (arg.startsWith('--cost=')) value = arg.slice('--cost='.length);
    else return `unknown argument "${arg}"`;
    // bcrypt encodes the cost in two digits; below 4 is refused by bcryptjs, above 31 overflows.
    if (value === undefined || !/^\d{1,2}$/.test(value) || Number(value) < 4 || Number(value) > 31) {
      return `--cost needs a whole number from 4 to 31, got ${value === undefined ? 'nothing' : `"${value}"`}`;
    }
    cost = Number(value);
  }
  return cost;
}

/** The first line of a piped stdin, without its `\n` or `\r\n` (SPEC §1). */
function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', onError);
      stdin.pause();
      const text = Buffer.concat(chunks).toString('utf8');
      const newline = text.indexOf('\n');
      const line = newline < 0 ? text : text.slice(0, newline);
      resolve(line.endsWith('\r') ? line.slice(0, -1) : line);
    };
    const onData = (chunk: Buffer | string): void => {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (chunk.includes('\n')) finish();
    };
    const onError = (err: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      reject(err);
    };
    stdin.on('data', onData);
    stdin.on('end', finish);
    stdin.on('error', onError);
    stdin.resume();
  });
}

/** Prompts on stderr and reads a password in raw mode, so the terminal does not echo it. */
function promptHidden(io: HashPasswordIo): Promise<string> {
  const { stdin, stderr } = io;
  const setRawMode = stdin.setRawMode as (mode: boolean) => unknown;
  stderr.write('Password: ');
  setRawMode.call(stdin, true);
  return new Promise((resolve, reject) => {
    let password = '';
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      setRawMode.call(stdin, false);
      stdin.pause();
      stderr.write('\n');
      if (err === undefined) resolve(password);
      else reject(err);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') password = password.slice(0, -1);
        else password += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
