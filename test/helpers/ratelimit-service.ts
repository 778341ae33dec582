// Envoy's rate limit service for black-box tests: tools/ratelimit/service.ts (shared with `tollgate bench
// --envoy`) behind the tests' skip rule. Missing binaries under CI=true → the test fails with the install
// command; elsewhere it skips with a visible notice (as test/helpers/tools.ts).
import type { TestContext } from "node:test";
import {
  findRateLimitBinaries,
  RATELIMIT_INSTALL,
  startRateLimitService as startService,
  type RateLimitBinaries,
  type RateLimitService,
  type RateLimitServiceOptions,
} from "../../tools/ratelimit/service.ts";

export { findRateLimitBinaries, RATELIMIT_INSTALL, type RateLimitService, type RateLimitServiceOptions };

/**
 * The binaries, or (outside CI) skips the test and returns null; under CI=true a missing one throws, so the
 * global rate limit tests can never silently not run in CI.
 */
export function requireRateLimitService(t: TestContext): RateLimitBinaries | null {
  const found = findRateLimitBinaries();
  if (!("missing" in found)) return found;
  const msg = `${found.missing} (install: ${RATELIMIT_INSTALL})`;
  if (process.env.CI) throw new Error(`${msg} — required in CI`);
  console.log(`# SKIP notice: ${msg}`);
  t.skip(msg);
  return null;
}

/**
 * Starts Redis and the rate limit service with `opts.config`; null when the binaries are missing outside CI
 * (the test was skipped). Call stop() in the test's cleanup.
 */
export async function startRateLimitService(t: TestContext, opts: RateLimitServiceOptions): Promise<RateLimitService | null> {
  const bins = requireRateLimitService(t);
  return bins ? startService(bins, opts) : null;
}
