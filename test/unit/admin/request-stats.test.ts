import t from 'tap';
import { Registry } from 'prom-client';
import { RequestStats } from '../../../src/admin/request-stats.js';

t.test('counts by host and status class, and exports a cumulative histogram', async (t) => {
  const stats = new RequestStats();
  const registry = new Registry();
  stats.register(registry);
  stats.observe('a.test', 200, 0.003);
  stats.observe('a.test', 204, 0.001); // exactly on a bucket bound: le="0.001"
  stats.observe('a.test', 502, 0.2);
  stats.observe('-', 404, 40); // above the largest bound: only +Inf
  stats.observe('a.test', 101, 0.0001);
  const text = await registry.metrics();
  t.match(text, '# TYPE portico_requests_total counter');
  t.match(text, 'portico_requests_total{host="a.test",class="2xx"} 2');
  t.match(text, 'portico_requests_total{host="a.test",class="5xx"} 1');
  t.match(text, 'portico_requests_total{host="a.test",class="1xx"} 1');
  t.match(text, 'portico_requests_total{host="-",class="4xx"} 1');
  t.match(text, '# TYPE portico_request_duration_seconds histogram');
  t.match(text, 'portico_request_duration_seconds_bucket{le="0.001",host="a.test"} 2');
  t.match(text, 'portico_request_duration_seconds_bucket{le="0.005",host="a.test"} 3');
  t.match(text, 'portico_request_duration_seconds_bucket{le="0.25",host="a.test"} 4');
  t.match(text, 'portico_request_duration_seconds_bucket{le="+Inf",host="a.test"} 4');
  t.match(text, 'portico_request_duration_seconds_count{host="a.test"} 4');
  t.match(text, 'portico_request_duration_seconds_bucket{le="30",host="-"} 0');
  t.match(text, 'portico_request_duration_seconds_bucket{le="+Inf",host="-"} 1');
  t.match(text, 'portico_request_duration_seconds_sum{host="-"} 40');
});
