/** Shortcuts accepted by `tls.acme.directory`, as in acme-client's `directory.letsencrypt`. */
const SHORTCUTS: Readonly<Record<string, string>> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** Maps `letsencrypt` / `letsencrypt-staging` to their directory URLs; a URL passes through. */
export function resolveAcmeDirectory(value: string): string | undefined {
  const shortcut = SHORTCUTS[value];
  if (shortcut) return shortcut;
  return /^https?:\/\/[^\s]+$/.test(value) ? value : undefined;
}
