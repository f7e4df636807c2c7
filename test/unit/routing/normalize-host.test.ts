import t from 'tap';
import { normalizeHost } from '../../../src/routing/normalize-host.js';

t.test('case is ignored', async (t) => {
  t.equal(normalizeHost('Example.COM'), 'example.com');
  t.equal(normalizeHost('WWW.EXAMPLE.COM'), 'www.example.com');
});

t.test('the port is ignored', async (t) => {
  t.equal(normalizeHost('example.com:8080'), 'example.com');
  t.equal(normalizeHost('example.com:443'), 'example.com');
  t.equal(normalizeHost('127.0.0.1:80'), '127.0.0.1');
  t.equal(normalizeHost('example.com:'), 'example.com', 'an empty port');
});

t.test('IPv6 literals keep their brackets and lose the port', async (t) => {
  t.equal(normalizeHost('[::1]:8080'), '[::1]');
  t.equal(normalizeHost('[::1]'), '[::1]');
  t.equal(normalizeHost('[2001:DB8::1]:443'), '[2001:db8::1]', 'lower-cased too');
});

t.test('one trailing dot is ignored, with or without a port', async (t) => {
  t.equal(normalizeHost('example.com.'), 'example.com');
  t.equal(normalizeHost('Example.com.:8443'), 'example.com');
});

t.test('an absent or empty Host header is ""', async (t) => {
  t.equal(normalizeHost(undefined), '');
  t.equal(normalizeHost(''), '');
});
