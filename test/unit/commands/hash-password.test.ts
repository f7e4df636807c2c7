import { PassThrough, Readable } from 'node:stream';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { runHashPassword } from '../../../src/commands/hash-password.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(args: string[], input: string | Readable) {
  const stdout = sink();
  const stderr = sink();
  const stdin = typeof input === 'string' ? Readable.from([Buffer.from(input)]) : input;
  const code = await runHashPassword(args, { stdin, stdout: stdout.stream, stderr: stderr.stream });
  return { code, out: stdout.text(), err: stderr.text() };
}

t.test('hashes one piped line; \\r\\n is not part of the password', async (t) => {
  for (const input of ['s3cret pw\n', 's3cret pw\r\n', 's3cret pw', 's3cret pw\nsecond line\n']) {
    const { code, out, err } = await run(['--cost', '4'], input);
    t.equal(code, 0, JSON.stringify(input));
    t.equal(err, '');
    t.match(out, /^\$2b\$04\$[./A-Za-z0-9]{53}\n$/);
    t.equal(await bcrypt.compare('s3cret pw', out.trimEnd()), true);
    t.equal(await bcrypt.compare('s3cret pw\r', out.trimEnd()), false);
  }
});

t.test('--cost=N is accepted too', async (t) => {
  const { code, out } = await run(['--cost=5'], 'x\n');
  t.equal(code, 0);
  t.equal(bcrypt.getRounds(out.trim()), 5);
});

t.test('bad cost or argument is a usage error (exit 2)', async (t) => {
  for (const args of [['--cost', '3'], ['--cost', '32'], ['--cost', 'abc'], ['--cost'], ['--cost=1.5'], ['--nope']]) {
    const { code, out, err } = await run(args, 'x\n');
    t.equal(code, 2, args.join(' '));
    t.equal(out, '');
    t.match(err, /usage: portico hash-password/);
  }
});

t.test('an empty password is refused (exit 1)', async (t) => {
  for (const input of ['', '\n', '\r\n']) {
    const { code, out, err } = await run(['--cost', '4'], input);
    t.equal(code, 1);
    t.equal(out, '');
    t.match(err, /empty password/);
  }
});

t.test('the line may arrive in several chunks', async (t) => {
  const { code, out } = await run(['--cost', '4'], Readable.from([Buffer.from('ab'), Buffer.from('c\r'), Buffer.from('\n')]));
  t.equal(code, 0);
  t.equal(await bcrypt.compare('abc', out.trim()), true);
});

t.test('on a TTY it reads in raw mode without echo and restores the terminal', async (t) => {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    modes: [] as boolean[],
    setRawMode(mode: boolean) {
      this.modes.push(mode);
      return this;
    },
  });
  const stdout = sink();
  const stderr = sink();
  const done = runHashPassword(['--cost', '4'], { stdin, stdout: stdout.stream, stderr: stderr.stream });
  stdin.write('pax\u007fss\r');
  t.equal(await done, 0);
  t.same(stdin.modes, [true, false]);
  t.match(stderr.text(), /^Password: \n$/, 'the prompt, and no echo of the password');
  t.equal(await bcrypt.compare('pass', stdout.text().trim()), true, 'backspace edits');
});
