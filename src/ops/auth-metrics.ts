// Digest authentication counters on GET /metrics (docs/metrics.md), read at scrape time from the
// node's DigestAuth (src/registrar/auth.ts) and, with auth.db_url, its subscriber cache: challenges
// sent, credentials taken, failures by reason (every reason listed, 0 until it happens), subscriber
// store errors, cache hits and misses. Registered when a node with auth.enable on is attached.
import client from 'prom-client';
import { AUTH_FAILURES, type DigestAuth } from '../registrar/auth.ts';
import { CachedSubscribers } from '../registrar/subscribers.ts';

type Sample = [Record<string, string>, number];

export function registerAuthMetrics(registers: client.Registry[], a: DigestAuth): void {
  const counter = (name: string, help: string, labelNames: string[], read: () => Sample[]) =>
    new client.Counter({
      name, help, labelNames, registers,
      collect() {
        this.reset();
        for (const [labels, v] of read()) this.inc(labels, v);
      },
    });
  const cache = a.source instanceof CachedSubscribers ? a.source : null;

  counter('kdmq_auth_challenges_total', 'REGISTERs answered 401 with a digest challenge (no credentials yet, or after a failure below; stale=true ones included)', [], () => [[{}, a.stats.challenged]]);
  counter('kdmq_auth_ok_total', 'REGISTERs whose digest credentials were taken (then handled by the registrar)', [], () => [[{}, a.stats.ok]]);
  counter('kdmq_auth_failures_total', 'Digest credentials refused, by reason: bad_password, unknown_user, stale_nonce (expired, or from before a restart), nc_replay (a nonce count used again), wrong_aor (another user\'s AoR: 403), bad_nonce (not this node\'s), unsupported (algorithm or qop not offered), bad_header (400)', ['reason'],
    () => AUTH_FAILURES.map((reason): Sample => [{ reason }, a.stats.failures[reason]]));
  counter('kdmq_auth_db_errors_total', 'Subscriber lookups the database could not answer (each REGISTER answered 500)', [], () => [[{}, a.stats.errors]]);
  if (cache === null) return; // auth.users_file: no database, no cache
  counter('kdmq_auth_cache_hits_total', 'Subscriber lookups answered by the cache (rows kept auth.cache_ttl seconds)', [], () => [[{}, cache.hits]]);
  counter('kdmq_auth_cache_misses_total', 'Subscriber lookups the cache sent to the database (not held, or older than auth.cache_ttl)', [], () => [[{}, cache.misses]]);
  new client.Gauge({
    name: 'kdmq_auth_cache_entries', help: 'Subscriber rows (and known absences) held by the cache', registers,
    collect() {
      this.set(cache.size);
    },
  });
}
