// `tollgate up` with a real plugin whose configuration fails on_configure: the process exits 1 on its own
// (nothing left listening), and stderr carries the plugin's own critical line naming the field, not a stack.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pluginWasm, repoRoot } from "../../tools/paths.ts";
import { bootstrapYaml, closedPort } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "tollgate-up-config-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function up(yaml: string): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const file = join(tmp, `up-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "up", file, "--engine", "embedded"], {
    cwd: repoRoot(),
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (s: string) => !/\n\s+at .+:\d+/.test(s) && !/Error: /.test(s.replace(/^error: /m, ""));

for (const plugin of ["cors", "rate-limit"]) {
  test(`tollgate up: ${plugin} config failing on_configure stops start-up with the plugin's line`, async (t) => {
    if (!existsSync(pluginWasm(plugin))) assert.fail(`${pluginWasm(plugin)} is missing: run npx tollgate build`);
    // A valid plugin first in the chain (started, then torn down), the invalid one second.
    const good = { name: "noop", rootId: "noop", vmId: "noop", file: "dist/plugins/noop.wasm", configuration: "{}" };
    const bad =
      plugin === "cors"
        ? { name: "cors", rootId: "cors", vmId: "cors", file: "dist/plugins/cors.wasm", configuration: JSON.stringify({ allow_origins: ["https://app.example.com"], max_age: -1 }) }
        : { name: "rate-limit", rootId: "rate-limit", vmId: "rate-limit", file: "dist/plugins/rate-limit.wasm", configuration: JSON.stringify({ rules: [{ name: "r", key: { header: "x-api-key" }, limit: { requests: -5, per: "second" } }] }) };
    const r = up(bootstrapYaml([{ name: "l", cluster: "c", filters: [good, bad] }], { c: await closedPort() }));
    t.diagnostic(r.stderr.trim());
    assert.equal(r.signal, null, "exited by itself (no listener kept it alive)");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /http_filters\[1\]\.typed_config: plugin '[a-z-]+' \(dist\/plugins\/[a-z-]+\.wasm\) failed to configure: /);
    // The plugin's own critical line (Envoy: `wasm log <plugin> <root_id> <vm_id>: <msg>`) names field and rule.
    const field = plugin === "cors" ? /'max_age' must be/ : /'(rules\[0\]\.)?limit\.requests' must be/;
    assert.match(r.stderr, field, r.stderr);
    assert.ok(noStack(r.stderr), `no stack trace:\n${r.stderr}`);
    assert.ok(!/^listener /m.test(r.stdout), "no listener was announced");
  });
}
