/**
 * Turns an upstream target as written ("127.0.0.1:8000", "[::1]:8000", "http://app:3000",
 * "https://api.internal") into an origin URL, or undefined when it is not one.
 */
export function parseTarget(text: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined; // not a URL: the caller reports it with the file position
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) return undefined;
  // A bare "name" without a port is almost always a typo for an upstream name, not a target.
  // Test the text, not url.port: WHATWG URL drops a default port, so "10.0.0.1:80" has port ''.
  if (!/^[a-z]+:\/\//i.test(text) && !/:[0-9]+$/.test(text)) return undefined;
  return url.origin;
}
