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
  if (/:0+$/.test(text)) return undefined; // port 0 cannot be connected to
  return url.origin;
}

/**
 * Why `text` is not a target, in words for `portico check` ("port 99999 is out of range"), or
 * undefined when nothing more precise than "expected host:port" can be said.
 */
export function targetProblem(text: string): string | undefined {
  const port = /:([0-9]+)$/.exec(text)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is out of range (1-65535)`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (scheme !== undefined && !/^https?$/i.test(scheme)) return `scheme "${scheme}" is not http or https`;
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `http://${text}` : text);
  } catch {
    return undefined;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return 'a target has no path or query; use "rewrite" or "stripPrefix" on the route';
  if (url.username || url.password) return 'a target has no user or password';
  return undefined;
}
