import t from 'tap';
import { LineBatcher, type LineSink } from '../../../src/observability/line-batcher.js';

function recordingSink(): LineSink & { writes: string[]; syncFlushes: number; flushes: number } {
  return {
    writes: [],
    syncFlushes: 0,
    flushes: 0,
    write(data: Buffer) {
      this.writes.push(data.toString('utf8'));
    },
    flush(cb) {
      this.flushes++;
      cb?.();
    },
    flushSync() {
      this.syncFlushes++;
    },
  };
}

t.test('holds lines until the batch is full, then writes them in order as one buffer', async (t) => {
  const sink = recordingSink();
  const batcher = new LineBatcher(sink, 30);
  batcher.write('first line\n'); // 11
  batcher.write('second line\n'); // 23
  t.same(sink.writes, [], 'below the batch size nothing is written');
  batcher.write('third line\n'); // 34 >= 30
  t.same(sink.writes, ['first line\nsecond line\nthird line\n']);
  batcher.write('fourth\n');
  t.equal(sink.writes.length, 1);
});

t.test('flush hands over what is pending and calls back once the sink has written it', async (t) => {
  const sink = recordingSink();
  const batcher = new LineBatcher(sink);
  batcher.flush();
  t.same(sink.writes, [], 'nothing pending, nothing written');
  batcher.write('a\n');
  batcher.write('b\n');
  let called = false;
  batcher.flush(() => (called = true));
  t.same(sink.writes, ['a\nb\n']);
  t.ok(called);
  batcher.write('c\n');
  batcher.flushSync();
  t.same(sink.writes, ['a\nb\n', 'c\n']);
  t.equal(sink.syncFlushes, 1, 'flushSync also flushes the sink synchronously');
});

t.test('a line larger than the batch goes out with what came before, unchanged', async (t) => {
  const sink = recordingSink();
  const batcher = new LineBatcher(sink, 8);
  batcher.write('a\n');
  const big = `${'x'.repeat(100)}\n`;
  batcher.write(big);
  t.same(sink.writes, ['a\n' + big]);
});

t.test('a line larger than the whole buffer is written on its own, in order', async (t) => {
  const sink = recordingSink();
  const batcher = new LineBatcher(sink);
  batcher.write('before\n');
  const huge = `${'y'.repeat(200_000)}\n`;
  batcher.write(huge);
  batcher.write('after\n');
  batcher.flush();
  t.same(sink.writes, ['before\n', huge, 'after\n']);
});

t.test('non-ASCII lines are written as UTF-8, and a batch owns its bytes', async (t) => {
  const sink = recordingSink();
  const raw: Buffer[] = [];
  const batcher = new LineBatcher({ ...sink, write: (b: Buffer) => raw.push(b) }, 4);
  batcher.write('café ✓ 😀\n');
  batcher.write('next\n');
  t.equal(raw[0]!.toString('utf8'), 'café ✓ 😀\n');
  t.equal(raw[1]!.toString('utf8'), 'next\n', 'the first batch was not overwritten by the next line');
});

t.test('with a maximum batch, every write ends at a line end and none is longer (unless one line is)', async (t) => {
  const raw: Buffer[] = [];
  const sink = { write: (b: Buffer) => raw.push(Buffer.from(b)), flush: (cb?: (err?: Error) => void) => cb?.(), flushSync: () => {} };
  const batcher = new LineBatcher(sink, 20, 20);
  for (const line of ['aaaaaa\n', 'bbbbbbb\n', 'cccccccc\n', 'd\n', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeee\n', 'f\n']) batcher.write(line);
  batcher.flush();
  t.same(raw.map(String), ['aaaaaa\nbbbbbbb\n', 'cccccccc\nd\n', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeee\n', 'f\n']);
});
