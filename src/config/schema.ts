import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN, RATE_PATTERN, SIZE_PATTERN } from './units.js';

/**
 * The shape of routes.yaml: the single source of truth for validation (ajv), for the static
 * types of the raw document, and for `schema/routes.schema.json` used by editors.
 * Every object is closed (`additionalProperties: false`) so that typos are errors.
 */

const closed = { additionalProperties: false } as const;
const Obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, description ? { ...closed, description } : closed);

const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 500ms, 10s, 5m, 12h, 30d' });
const Size = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
  description: 'a size such as 512k, 10m, 1g',
});
const Rate = Type.String({ pattern: RATE_PATTERN, description: 'a rate such as 100/s, 5/m, 1000/h' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const ListenAddress = Type.Union([Port, Type.String({ minLength: 1 })], {
  description: 'a port, or "addr:port"',
});
const PositiveInt = Type.Integer({ minimum: 1 });

const RateLimit = Obj(
  {
    rate: Rate,
    burst: Type.Optional(PositiveInt),
    key: Type.Optional(Type.String({ pattern: '^(ip|header:[!#$%&\'*+.^_`|~0-9A-Za-z-]+)$', description: 'ip | header:<Name>' })),
  },
  'a token bucket: rate, burst, key',
);

const Headers = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
  description: 'header name → value; null removes the header',
});

const Targets = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
  description: 'an upstream name, "host:port", a URL, or a list of them',
});

/** A URL path; the description is what `portico check` says when the leading "/" is missing. */
const UrlPath = () => Type.String({ pattern: '^/', description: 'a path starting with "/"' });

/** Shown by `portico check` for a users entry that is not a bcrypt hash (see validate-schema). */
export const BCRYPT_HASH = 'a bcrypt hash';

const Timeouts = Obj({ connect: Type.Optional(Duration), response: Type.Optional(Duration) });

const HealthCheck = Obj({
  path: Type.Optional(UrlPath()),
  interval: Type.Optional(Duration),
  timeout: Type.Optional(Duration),
  unhealthyAfter: Type.Optional(PositiveInt),
  healthyAfter: Type.Optional(PositiveInt),
});

const WeightedTarget = Obj(
  {
    url: Type.String({ minLength: 1 }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'an integer 0..1000 (0 = standby)' })),
  },
  'a target with a weight: { url: "host:port", weight: 0..1000 }',
);

const Upstream = Obj({
  targets: Type.Array(Type.Union([Type.String({ minLength: 1 }), WeightedTarget], { description: '"host:port", a URL, or { url, weight }' }), { minItems: 1 }),
  balance: Type.Optional(Type.Union([Type.Literal('round_robin'), Type.Literal('least_conn'), Type.Literal('ip_hash')])),
  healthCheck: Type.Optional(HealthCheck),
  timeouts: Type.Optional(Timeouts),
});

const Respond = Obj({
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  body: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const Redirect = Obj({
  to: Type.String({ minLength: 1 }),
  status: Type.Optional(Type.Union([301, 302, 303, 307, 308].map((s) => Type.Literal(s)))),
});

const AddressList = Type.Array(Type.String({ minLength: 1 }), { description: 'a list of IPv4/IPv6 addresses or CIDRs' });

/** Statuses Portico answers itself (SPEC §4 Error pages); anything else is an unknown key. */
export const ERROR_PAGE_STATUSES = ['401', '403', '404', '429', '502', '503', '504'] as const;
export const ERROR_PAGES_DESCRIPTION = 'status → HTML file, for 401 403 404 429 502 503 504';
const ErrorPages = Obj(
  Object.fromEntries(ERROR_PAGE_STATUSES.map((s) => [s, Type.Optional(Type.String({ minLength: 1 }))])),
  ERROR_PAGES_DESCRIPTION,
);

const Route = Obj({
  path: Type.Optional(UrlPath()),
  upstream: Type.Optional(Targets),
  respond: Type.Optional(Respond),
  redirect: Type.Optional(Redirect),
  stripPrefix: Type.Optional(Type.Boolean()),
  rewrite: Type.Optional(UrlPath()),
  rateLimit: Type.Optional(RateLimit),
  compress: Type.Optional(Type.Boolean()),
  allow: Type.Optional(AddressList),
  deny: Type.Optional(AddressList),
});

const HostTls = Type.Union(
  [
    Type.Literal('acme'),
    Type.Literal('self-signed'),
    Type.Literal('off'),
    Obj({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }),
  ],
  { description: 'acme | self-signed | off | { cert: FILE, key: FILE }' },
);

const Host = Obj({
  aliases: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  tls: Type.Optional(HostTls),
  headers: Type.Optional(Headers),
  rateLimit: Type.Optional(RateLimit),
  maxBodySize: Type.Optional(Size),
  basicAuth: Type.Optional(
    Obj({
      realm: Type.Optional(Type.String()),
      // Whether the client's Authorization header (the Basic credentials) reaches the upstream.
      forwardAuthorization: Type.Optional(Type.Boolean()),
      users: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^\\$2[abxy]?\\$[0-9]{2}\\$.{53}$', description: BCRYPT_HASH })),
    }),
  ),
  noindex: Type.Optional(Type.Boolean()),
  compress: Type.Optional(Type.Boolean()),
  allow: Type.Optional(AddressList),
  deny: Type.Optional(AddressList),
  errorPages: Type.Optional(ErrorPages),
  routes: Type.Array(Route, { minItems: 1 }),
});

/** The whole routes.yaml document. */
export const RoutesFileSchema = Type.Object(
  {
    listen: Type.Optional(Obj({ http: Type.Optional(ListenAddress), https: Type.Optional(ListenAddress) })),
    admin: Type.Optional(ListenAddress),
    tls: Type.Optional(
      Obj({
        certs: Type.Optional(Type.String({ minLength: 1 })),
        minVersion: Type.Optional(Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')])),
        acme: Type.Optional(
          Obj({
            email: Type.String({ minLength: 3 }),
            directory: Type.Optional(Type.String({ minLength: 1 })),
            caFile: Type.Optional(Type.String({ minLength: 1 })),
            renewBefore: Type.Optional(Duration),
          }),
        ),
      }),
    ),
    redis: Type.Optional(Obj({ url: Type.String({ pattern: '^rediss?://', description: 'a redis:// or rediss:// URL' }), prefix: Type.Optional(Type.String()) })),
    trustedProxies: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    workers: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], {
        description: 'a number of worker processes from 1 to 256, or auto (one per CPU)',
      }),
    ),
    log: Type.Optional(
      Obj({
        level: Type.Optional(
          Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
        ),
        access: Type.Optional(Type.Boolean()),
      }),
    ),
    upstreams: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Upstream)),
    errorPages: Type.Optional(ErrorPages),
    hosts: Type.Record(Type.String({ minLength: 1 }), Host),
  },
  {
    ...closed,
    $id: 'https://portico.dev/schema/routes.schema.json',
    title: 'Portico routes.yaml',
  },
);

/** The raw document after YAML parsing and schema validation, before units and defaults. */
export type RoutesFile = Static<typeof RoutesFileSchema>;
export type RawHost = Static<typeof Host>;
export type RawRoute = Static<typeof Route>;
export type RawUpstream = Static<typeof Upstream>;
export type RawRateLimit = Static<typeof RateLimit>;
export type RawErrorPages = Static<typeof ErrorPages>;
