import t from 'tap';
import { compileClientIpResolver } from '../../../src/server/client-ip.js';

// SPEC §3 Client IP: the TCP peer, unless the peer is trusted; then the right-most address of
// X-Forwarded-For that is not itself trusted (all trusted: the left-most); a malformed entry
// stops the walk, and the last trusted address examined (or the peer) is the client.
const resolver = compileClientIpResolver(['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);

t.test('no trustedProxies: always the TCP peer', async (t) => {
  const none = compileClientIpResolver([]);
  t.equal(none.resolve('203.0.113.9', '1.2.3.4'), '203.0.113.9');
  t.equal(none.resolve('10.0.0.1', '1.2.3.4'), '10.0.0.1');
  t.equal(none.isTrusted('10.0.0.1'), false);
});

t.test('an untrusted peer is the client, whatever its X-Forwarded-For says', async (t) => {
  t.equal(resolver.resolve('203.0.113.9', '1.2.3.4'), '203.0.113.9');
  t.equal(resolver.resolve('203.0.113.9', '10.0.0.1, 1.2.3.4'), '203.0.113.9');
  t.equal(resolver.resolve('203.0.113.9', undefined), '203.0.113.9');
  t.equal(resolver.resolve('2001:db8::1', '1.2.3.4'), '2001:db8::1');
});

t.test('a trusted peer without X-Forwarded-For is the client', async (t) => {
  t.equal(resolver.resolve('10.1.2.3', undefined), '10.1.2.3');
  t.equal(resolver.resolve('10.1.2.3', ''), '10.1.2.3');
});

t.test('a trusted peer: the right-most untrusted address', async (t) => {
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7'), '198.51.100.7');
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, 10.0.0.2'), '198.51.100.7', 'trusted hops are skipped');
  t.equal(resolver.resolve('10.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2, 192.168.1.10'), '198.51.100.7', 'a spoofed left entry is not believed');
  t.equal(resolver.resolve('10.0.0.1', '6.6.6.6,198.51.100.7'), '198.51.100.7', 'no spaces');
  t.equal(resolver.resolve('10.0.0.1', '  198.51.100.7  ,  10.0.0.2 '), '198.51.100.7', 'extra spaces');
});

t.test('all addresses trusted: the left-most', async (t) => {
  t.equal(resolver.resolve('10.0.0.1', '10.9.9.9, 192.168.1.10, 10.0.0.2'), '10.9.9.9');
  t.equal(resolver.resolve('10.0.0.1', '10.0.0.5'), '10.0.0.5');
});

t.test('a malformed entry stops the walk: the last trusted address examined is the client', async (t) => {
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, garbage, 10.0.0.2'), '10.0.0.2');
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, unknown, 10.0.0.2, 10.0.0.3'), '10.0.0.2');
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, 10.0.0.2, 999.1.1.1'), '10.0.0.1', 'the right-most is malformed: the TCP peer');
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, '), '10.0.0.1', 'an empty right-most entry is malformed');
  t.equal(resolver.resolve('10.0.0.1', 'not-an-ip'), '10.0.0.1');
  t.equal(resolver.resolve('10.0.0.1', 'garbage, 198.51.100.7'), '198.51.100.7', 'the walk stops at the first untrusted address, before the garbage');
});

t.test('entries with a port are read as their address', async (t) => {
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7:51234, 10.0.0.2:80'), '198.51.100.7');
  t.equal(resolver.resolve('10.0.0.1', '[2001:db8::5]:443'), '2001:db8::5');
  t.equal(resolver.resolve('10.0.0.1', '2001:db8::5'), '2001:db8::5', 'a bare IPv6 address is not a host:port');
});

t.test('CIDR matching, IPv4 and IPv6, and exact addresses', async (t) => {
  t.equal(resolver.isTrusted('10.0.0.0'), true);
  t.equal(resolver.isTrusted('10.255.255.255'), true);
  t.equal(resolver.isTrusted('11.0.0.0'), false);
  t.equal(resolver.isTrusted('9.255.255.255'), false);
  t.equal(resolver.isTrusted('192.168.1.10'), true, 'a single address');
  t.equal(resolver.isTrusted('192.168.1.11'), false);
  t.equal(resolver.isTrusted('fd00::1'), true);
  t.equal(resolver.isTrusted('fdff:ffff::1'), true);
  t.equal(resolver.isTrusted('fe80::1'), false);
  t.equal(resolver.isTrusted('::1'), false);
  t.equal(resolver.isTrusted('not-an-ip'), false);
  const v6 = compileClientIpResolver(['2001:db8:abcd::/48', '::1']);
  t.equal(v6.isTrusted('2001:db8:abcd:12::1'), true);
  t.equal(v6.isTrusted('2001:db8:abce::1'), false);
  t.equal(v6.isTrusted('::1'), true);
  t.equal(v6.resolve('::1', '2001:db8:abcd::9, 198.51.100.7'), '198.51.100.7');
  t.equal(v6.resolve('::1', '198.51.100.7, 2001:db8:abcd::9'), '198.51.100.7');
});

t.test('IPv4-mapped IPv6 peers (::ffff:a.b.c.d) are their IPv4 address', async (t) => {
  t.equal(resolver.isTrusted('::ffff:10.1.2.3'), true);
  t.equal(resolver.isTrusted('::ffff:192.168.1.10'), true);
  t.equal(resolver.isTrusted('::ffff:11.1.2.3'), false);
  t.equal(resolver.resolve('::ffff:10.1.2.3', '198.51.100.7'), '198.51.100.7', 'a trusted mapped peer');
  t.equal(resolver.resolve('::ffff:203.0.113.9', '198.51.100.7'), '::ffff:203.0.113.9', 'an untrusted mapped peer is the client');
  t.equal(resolver.resolve('10.0.0.1', '198.51.100.7, ::ffff:10.0.0.9'), '198.51.100.7', 'mapped trusted hops are skipped');
});
