import t from 'tap';
import { ReloadHistory } from '../../../src/admin/reload-history.js';

const issue = (line: number) => ({ file: 'routes.yaml', line, col: 5, message: 'bad', path: [] });

t.test('lists reloads newest first with FILE:LINE:COL errors; a file put back is valid again', async (t) => {
  let now = 0;
  const h = new ReloadHistory(() => ++now);
  h.record({ ok: true, version: 2, unchanged: false });
  h.record({ ok: false, issues: [issue(3), issue(9)], message: '' });
  h.record({ ok: false, issues: [issue(3), issue(9)], message: '', repeated: true });
  h.record({ ok: true, version: -1, unchanged: true });
  h.record({ ok: false, issues: [], message: 'cannot listen on 127.0.0.1:80 (http): EADDRINUSE' });
  t.same(h.list().map((e) => [e.result, e.version, e.unchanged, e.errors, e.count]), [
    ['error', null, false, ['cannot listen on 127.0.0.1:80 (http): EADDRINUSE'], 1],
    ['ok', null, true, [], 1],
    ['error', null, false, ['routes.yaml:3:5: bad', 'routes.yaml:9:5: bad'], 1],
    ['ok', 2, false, [], 1],
  ]);
});

t.test('the same errors in a row (forced reloads) are one entry with a count; the list is bounded', async (t) => {
  let now = 0;
  const h = new ReloadHistory(() => ++now);
  h.record({ ok: false, issues: [issue(3)], message: '' });
  h.record({ ok: false, issues: [issue(3)], message: '' });
  t.equal(h.list().length, 1);
  t.equal(h.list()[0]!.count, 2);
  t.equal(h.list()[0]!.at, 2, 'time of the latest');
  for (let i = 0; i < 50; i++) h.record({ ok: true, version: i, unchanged: false });
  t.equal(h.list().length, 20);
  t.equal(h.list()[0]!.version, 49);
});
