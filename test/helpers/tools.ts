// Strict mode for tests that need an installed tool (Chromium, docker-registry, skopeo): in CI a missing
// tool fails the test with the install command; elsewhere the test skips with a visible notice.
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";

export function which(bin: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Returns the tool's path, or (outside CI) skips the test; in CI a missing tool is a failure. */
export function requireTool(t: TestContext, bin: string, install: string): string | null {
  const found = which(bin);
  if (found) return found;
  const msg = `${bin} is not installed (install: ${install})`;
  if (process.env.CI) throw new Error(`${msg} — required in CI`);
  console.log(`# SKIP notice: ${msg}`);
  t.skip(msg);
  return null;
}
