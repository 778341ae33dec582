// `tollgate echo`: the demo/test upstream answers with the request it received, as JSON.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../tools/paths.ts";

function send(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method: init.method ?? "GET", headers: init.headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

test("tollgate echo --port 0 --name X: JSON echo of method, path, headers, body; ?status; SIGTERM stops it", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "echo", "--port", "0", "--name", "blue"], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("echo did not start")), 30_000);
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const r = await send(url, "/a/b?c=1", { method: "PUT", headers: { "x-one": "1", "content-type": "text/plain" }, body: "hello" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-echo-upstream"], "blue");
    const j = JSON.parse(r.body);
    assert.deepEqual([j.upstream, j.method, j.path, j.body, j.headers["x-one"]], ["blue", "PUT", "/a/b?c=1", "hello", "1"]);
    assert.equal((await send(url, "/?status=503")).status, 503);
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await exited, 0);
});

test("tollgate echo without --port is a usage error", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "echo"], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  assert.equal(code, 2);
  assert.match(err, /missing --port/);
});
