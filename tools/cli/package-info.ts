import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface PackageJson {
  name?: string;
  version?: string;
  bugs?: string | { url?: string };
  repository?: string | { url?: string };
}

let cached: PackageJson | undefined;

/** tollgate's own package.json, found upwards from this module (tools/cli/ in the sources, lib/ when bundled). */
export function ownPackage(): PackageJson {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as PackageJson;
      if (pkg.name === "tollgate") return (cached = pkg);
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find tollgate's package.json above the CLI module");
    dir = up;
  }
}

/** Where bugs go: package.json `bugs`, else the issues page of a GitHub `repository`, else undefined. */
export function bugReportUrl(pkg: PackageJson = ownPackage()): string | undefined {
  const bugs = typeof pkg.bugs === "string" ? pkg.bugs : pkg.bugs?.url;
  if (bugs) return bugs;
  const repo = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
  const m = repo ? /github\.com[/:]([^/]+\/[^/.]+?)(\.git)?\/?$/.exec(repo) ?? /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(repo) : null;
  return m ? `https://github.com/${m[1]}/issues` : undefined;
}
