// tollgate push against a real registry (Debian's docker-registry on 127.0.0.1), read back with skopeo.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { buildPlugins } from "../../tools/build/plugins.ts";
import { packImage, sha256, tarOneFile, MEDIA } from "../../tools/oci/image.ts";
import { parseChallenge } from "../../tools/oci/registry.ts";
import { parseReference } from "../../tools/oci/reference.ts";
import { credentialsFromDockerConfig } from "../../tools/oci/credentials.ts";
import { pluginWasm, repoRoot } from "../../tools/paths.ts";
import { requireTool, which } from "../helpers/tools.ts";
import { startRegistry, type TestRegistry } from "./registry-helper.ts";

const REGISTRY_INSTALL = "apt-get install -y docker-registry";
const SKOPEO_INSTALL = "apt-get install -y skopeo";
const HTPASSWD_INSTALL = "apt-get install -y apache2-utils";

interface RunResult { code: number; stdout: string; stderr: string }

/** Runs the CLI from source (as bin/tollgate.js would, without the bundle step). */
function cli(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), ...args], {
      cwd: repoRoot(),
      env: { ...process.env, DOCKER_CONFIG: join(tmpdir(), "tollgate-no-docker-config"), ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}

function skopeo(args: string[]): string {
  return execFileSync("skopeo", args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
}

function skopeoFails(args: string[]): string {
  try {
    skopeo(args);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  assert.fail(`skopeo ${args.join(" ")} succeeded but should have failed`);
}

let wasm: Uint8Array;
const tmp = mkdtempSync(join(tmpdir(), "tollgate-push-test-"));

before(async () => {
  await buildPlugins(["noop"]);
  wasm = readFileSync(pluginWasm("noop"));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Istio's agent (pkg/wasm/imagefetcher.go, deploy.md §4.2): the last layer as compat (tar+gzip with a plugin.wasm
 * entry), else the oci variant (exactly 2 layers, one of them the raw wasm content layer).
 */
function istioExtract(manifest: { layers: Array<{ mediaType: string; digest: string }> }, blob: (digest: string) => Buffer): Buffer {
  const last = manifest.layers.at(-1)!;
  if (last.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip") {
    const tar = gunzipSync(blob(last.digest));
    for (let off = 0; off + 512 <= tar.length; ) {
      const name = tar.subarray(off, off + 100).toString("utf8").replace(/\0.*$/s, "");
      if (!name) break;
      const size = parseInt(tar.subarray(off + 124, off + 136).toString("ascii").trim(), 8);
      if (name.split("/").at(-1) === "plugin.wasm") return tar.subarray(off + 512, off + 512 + size);
      off += 512 + Math.ceil(size / 512) * 512;
    }
  }
  assert.equal(manifest.layers.length, 2, "could not parse as compat variant; oci variant: number of layers must be 2");
  const content = manifest.layers.find((l) => l.mediaType === "application/vnd.module.wasm.content.layer.v1+wasm");
  assert.ok(content, "oci variant without a wasm content layer");
  return blob(content.digest);
}

function digestFrom(out: string): string {
  const m = /^digest: (sha256:[a-f0-9]{64})$/m.exec(out);
  assert.ok(m, `no digest line in:\n${out}`);
  return m[1];
}

describe("image packing", () => {
  test("compat: one tar+gzip layer with plugin.wasm, config diff_ids = sha256 of the tar, compat annotation", () => {
    const img = packImage(wasm);
    const manifest = JSON.parse(Buffer.from(img.manifest).toString());
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, MEDIA.manifest);
    assert.deepEqual(manifest.annotations, { "module.wasm.image/variant": "compat" });
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    const layer = img.blobs.find((b) => b.digest === manifest.layers[0].digest)!;
    const config = JSON.parse(Buffer.from(img.blobs.find((b) => b.digest === manifest.config.digest)!.data).toString());
    assert.equal(manifest.config.mediaType, "application/vnd.oci.image.config.v1+json");
    const tar = gunzipSync(layer.data);
    assert.deepEqual(config.rootfs, { type: "layers", diff_ids: [sha256(tar)] });
    assert.ok(config.architecture && config.os);
    assert.equal(sha256(img.manifest), img.manifestDigest);
    // Fixed gzip header: no mtime, OS unknown.
    assert.deepEqual([...layer.data.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    // The system tar reads exactly one entry, plugin.wasm, owned by root with mtime 0, identical to the module.
    const dir = join(tmp, "untar");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "layer.tar"), tar);
    const listing = execFileSync("tar", ["-tvf", join(dir, "layer.tar")], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } }).trim().split("\n");
    assert.equal(listing.length, 1);
    assert.match(listing[0], /^-rw-r--r-- root\/root\s+\d+ 1970-01-01 00:00 plugin\.wasm$/);
    execFileSync("tar", ["-xf", join(dir, "layer.tar"), "-C", dir]);
    assert.deepEqual(readFileSync(join(dir, "plugin.wasm")), Buffer.from(wasm));
  });

  test("deterministic: same .wasm → same digest; a changed byte → a different one", () => {
    assert.equal(packImage(wasm).manifestDigest, packImage(Buffer.from(wasm)).manifestDigest);
    assert.equal(packImage(wasm, { format: "oci" }).manifestDigest, packImage(wasm, { format: "oci" }).manifestDigest);
    const changed = Buffer.from(wasm);
    changed[changed.length - 1] ^= 1;
    assert.notEqual(packImage(changed).manifestDigest, packImage(wasm).manifestDigest);
  });

  test("tar pads content to 512-byte blocks and ends with two zero blocks", () => {
    for (const n of [0, 1, 511, 512, 513]) {
      const t = tarOneFile("plugin.wasm", new Uint8Array(n).fill(7));
      assert.equal(t.length, 512 + Math.ceil(n / 512) * 512 + 1024);
    }
  });

  test("oci: two layers, runtime config + raw wasm content layer", () => {
    const img = packImage(wasm, { format: "oci", rootId: "noop" });
    const manifest = JSON.parse(Buffer.from(img.manifest).toString());
    assert.equal(manifest.layers.length, 2);
    assert.deepEqual(manifest.layers.map((l: { mediaType: string }) => l.mediaType), [MEDIA.wasmConfig, MEDIA.wasmContent]);
    const content = img.blobs.find((b) => b.mediaType === MEDIA.wasmContent)!;
    assert.deepEqual(Buffer.from(content.data), Buffer.from(wasm));
  });

  test("refuses bytes that are not a wasm module", () => {
    assert.throws(() => packImage(Buffer.from("hello world")), /not a WebAssembly module/);
  });
});

describe("references and challenges", () => {
  test("parseReference", () => {
    assert.deepEqual(parseReference("localhost:5000/a/b:1"), { registry: "localhost:5000", apiHost: "localhost:5000", repository: "a/b", tag: "1", digest: undefined });
    assert.equal(parseReference("oci://ghcr.io/acme/cors:v1").registry, "ghcr.io");
    assert.equal(parseReference("cors:1").repository, "library/cors");
    assert.equal(parseReference("acme/cors:1").apiHost, "registry-1.docker.io");
    assert.throws(() => parseReference("ghcr.io/acme/cors"), /no tag/);
    assert.throws(() => parseReference("ghcr.io/Acme/cors:1"), /lowercase/);
  });
  test("parseChallenge keeps commas inside quoted scope", () => {
    const c = parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"');
    assert.deepEqual(c, { scheme: "bearer", params: { realm: "https://auth.example/token", service: "reg", scope: "repository:a/b:pull,push" } });
  });
});

describe("docker config credentials", () => {
  test("auths (auth / username+password, bare and https:// keys), credHelpers via docker-credential-<name>", () => {
    const dir = join(tmp, "dockercfg");
    const bin = join(tmp, "bin");
    mkdirSync(dir, { recursive: true });
    mkdirSync(bin, { recursive: true });
    // A credential helper speaks the docker-credential protocol: server URL on stdin, JSON on stdout.
    writeFileSync(join(bin, "docker-credential-tollgatetest"), '#!/bin/sh\nread server\nprintf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}\' "$server"\n', { mode: 0o755 });
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      auths: {
        "reg.example.com": { auth: Buffer.from("u1:p:1").toString("base64") },
        "https://other.example.com": { username: "u2", password: "p2" },
        "https://index.docker.io/v1/": { auth: Buffer.from("hub:pw").toString("base64") },
      },
      credHelpers: { "helped.example.com": "tollgatetest" },
    }));
    const env = { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` };
    const saved = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      assert.deepEqual(credentialsFromDockerConfig("reg.example.com", env), { username: "u1", password: "p:1", source: `${join(dir, "config.json")} auths["reg.example.com"]` });
      assert.equal(credentialsFromDockerConfig("other.example.com", env)?.username, "u2");
      assert.equal(credentialsFromDockerConfig("docker.io", env)?.username, "hub");
      assert.equal(credentialsFromDockerConfig("helped.example.com", env)?.password, "helper-secret");
      assert.equal(credentialsFromDockerConfig("unknown.example.com", env), null);
      assert.equal(credentialsFromDockerConfig("reg.example.com", { DOCKER_CONFIG: join(tmp, "none") }), null);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe("push to a real registry (no auth)", () => {
  let reg: TestRegistry | undefined;
  after(async () => reg?.stop());

  test("compat image: skopeo reads it back, layer un-tars to the built plugin.wasm, second push same digest", async (t) => {
    const bin = requireTool(t, "docker-registry", REGISTRY_INSTALL);
    if (!bin || !requireTool(t, "skopeo", SKOPEO_INSTALL)) return;
    reg = await startRegistry(bin);
    const ref = `${reg.host}/tollgate/noop:1.0.0`;
    const first = await cli(["push", "noop", ref, "--plain-http"]);
    assert.equal(first.code, 0, first.stderr);
    const digest = digestFrom(first.stdout);
    assert.equal(digest, packImage(wasm).manifestDigest);
    assert.match(first.stdout, new RegExp(`^  url: oci://${reg.host}/tollgate/noop:1\\.0\\.0$`, "m"));
    assert.match(first.stdout, new RegExp(`^  sha256: ${digest.slice(7)}$`, "m"));
    assert.match(first.stderr, /uploading \d+ bytes/);

    const info = JSON.parse(skopeo(["inspect", "--tls-verify=false", `docker://${ref}`]));
    assert.equal(info.Digest, digest);
    const raw = JSON.parse(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]));
    assert.equal(raw.annotations["module.wasm.image/variant"], "compat");

    const out = join(tmp, "copy-compat");
    skopeo(["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${out}`]);
    const layerDigest = raw.layers[0].digest.slice(7);
    const layer = readFileSync(join(out, layerDigest));
    const x = join(out, "x");
    mkdirSync(x);
    writeFileSync(join(x, "layer.tgz"), layer);
    execFileSync("tar", ["-xzf", join(x, "layer.tgz"), "-C", x]);
    assert.deepEqual(readdirSync(x).sort(), ["layer.tgz", "plugin.wasm"]);
    assert.deepEqual(readFileSync(join(x, "plugin.wasm")), readFileSync(pluginWasm("noop")));
    assert.deepEqual(istioExtract(raw, (d) => readFileSync(join(out, d.slice(7)))), readFileSync(pluginWasm("noop")));

    const second = await cli(["push", "noop", ref, "--plain-http"]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(digestFrom(second.stdout), digest);
    assert.match(second.stderr, /already exists/);
  });

  test("oci image: two layers, the content layer is the raw module", async (t) => {
    if (!reg || !which("skopeo")) return t.skip("needs the registry from the previous test");
    const ref = `${reg.host}/tollgate/noop:oci`;
    const res = await cli(["push", "noop", ref, "--plain-http", "--format", "oci", "--quiet"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, "");
    const raw = JSON.parse(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]));
    assert.equal(sha256(Buffer.from(JSON.stringify(raw))), digestFrom(res.stdout));
    assert.equal(raw.layers.length, 2);
    const content = raw.layers.find((l: { mediaType: string }) => l.mediaType === MEDIA.wasmContent);
    const out = join(tmp, "copy-oci");
    skopeo(["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${out}`]);
    assert.deepEqual(readFileSync(join(out, content.digest.slice(7))), readFileSync(pluginWasm("noop")));
    assert.deepEqual(istioExtract(raw, (d) => readFileSync(join(out, d.slice(7)))), readFileSync(pluginWasm("noop")));
  });

  test("plain HTTPS against a plain-HTTP registry fails with a hint", async (t) => {
    if (!reg) return t.skip("needs the registry from the first test");
    const res = await cli(["push", "noop", `${reg.host}/tollgate/noop:tls`]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /--plain-http/);
  });

  test("usage errors name the fix", async () => {
    const missing = await cli(["push", "no-such-plugin", "localhost:1/a:1", "--plain-http"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /dist\/plugins\/no-such-plugin\.wasm does not exist[\s\S]*tollgate build no-such-plugin/);
    const noTag = await cli(["push", "noop", "localhost:1/a"]);
    assert.equal(noTag.code, 2);
    assert.match(noTag.stderr, /no tag/);
  });
});

describe("push to a real registry with htpasswd Basic auth", () => {
  let reg: TestRegistry | undefined;
  after(async () => reg?.stop());
  const user = "alice";
  const pass = "s3cret-pass";

  test("--password-stdin and the docker config both work; a wrong password fails and leaves no manifest", async (t) => {
    const bin = requireTool(t, "docker-registry", REGISTRY_INSTALL);
    const htpasswd = bin && requireTool(t, "htpasswd", HTPASSWD_INSTALL);
    if (!bin || !htpasswd || !requireTool(t, "skopeo", SKOPEO_INSTALL)) return;
    reg = await startRegistry(bin, { username: user, password: pass, htpasswd });
    const creds = `--creds=${user}:${pass}`;

    const anon = await cli(["push", "noop", `${reg.host}/auth/noop:anon`, "--plain-http"]);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /requires authentication[\s\S]*--password-stdin/);

    const wrong = await cli(["push", "noop", `${reg.host}/auth/noop:wrong`, "--plain-http", "--username", user, "--password-stdin"], { stdin: "not-the-password\n" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /authentication failed: the registry rejected the credentials from --username alice --password-stdin/);
    assert.doesNotMatch(wrong.stdout, /digest:/);
    assert.match(skopeoFails(["inspect", "--tls-verify=false", creds, `docker://${reg.host}/auth/noop:wrong`]), /manifest unknown|not found|404/i);

    const ok = await cli(["push", "noop", `${reg.host}/auth/noop:1`, "--plain-http", "--username", user, "--password-stdin"], { stdin: `${pass}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    const info = JSON.parse(skopeo(["inspect", "--tls-verify=false", creds, `docker://${reg.host}/auth/noop:1`]));
    assert.equal(info.Digest, digestFrom(ok.stdout));

    const dockerConfig = join(tmp, "docker-config");
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(join(dockerConfig, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${user}:${pass}`).toString("base64") } } }));
    const viaConfig = await cli(["push", "noop", `${reg.host}/auth/noop:2`, "--plain-http"], { env: { DOCKER_CONFIG: dockerConfig } });
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.equal(digestFrom(viaConfig.stdout), digestFrom(ok.stdout));
    assert.match(viaConfig.stderr, new RegExp(`as ${user}`));
  });
});

/**
 * A front proxy in front of the real registry, to exercise what docker-registry does not do in its
 * default configuration: Bearer token auth (its own /token endpoint, checking Basic credentials), relative
 * Location headers, a transient 503, and a terminal 500 on a blob upload. It forwards everything else.
 */
describe("push through a Bearer-token proxy in front of the real registry", () => {
  let reg: TestRegistry | undefined;
  let proxy: Server | undefined;
  after(async () => {
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await reg?.stop();
  });

  test("token flow with scope, relative Location, 503 retried, 500 on a blob aborts before the manifest", async (t) => {
    const bin = requireTool(t, "docker-registry", REGISTRY_INSTALL);
    if (!bin || !requireTool(t, "skopeo", SKOPEO_INSTALL)) return;
    reg = await startRegistry(bin);
    const upstream = reg.host;
    const log: string[] = [];
    const tokenQueries: URLSearchParams[] = [];
    const state = { fail503: 1, fail500OnBlobPut: false };
    const TOKEN = "tok-123";
    proxy = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url!, "http://x");
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      if (url.pathname === "/token") {
        tokenQueries.push(url.searchParams);
        const ok = req.headers.authorization === `Basic ${Buffer.from("bob:pw").toString("base64")}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        return res.end(ok ? JSON.stringify({ token: TOKEN, expires_in: 300 }) : "{}");
      }
      log.push(`${req.method} ${url.pathname}`);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        const self = `http://${req.headers.host}`;
        res.writeHead(401, { "www-authenticate": `Bearer realm="${self}/token",service="test-registry",scope="repository:proxied/noop:pull"` });
        return res.end();
      }
      if (req.method === "PUT" && url.pathname.includes("/blobs/uploads/")) {
        if (state.fail503 > 0) {
          state.fail503--;
          res.writeHead(503);
          return res.end();
        }
        if (state.fail500OnBlobPut) {
          res.writeHead(500, { "content-type": "application/json" });
          return res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: "disk full" }] }));
        }
      }
      const up = await fetch(`http://${upstream}${req.url}`, {
        method: req.method,
        headers: { ...(req.headers["content-type"] ? { "content-type": req.headers["content-type"] } : {}) },
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      });
      const headers: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (k === "location") {
          const u = new URL(v, `http://${upstream}`);
          v = `${u.pathname}${u.search}`; // relative, as some registries send it
        }
        if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection") headers[k] = v;
      });
      const buf = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, headers);
      res.end(req.method === "HEAD" ? undefined : buf);
    });
    await new Promise<void>((r) => proxy!.listen(0, "127.0.0.1", r));
    const proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;

    const res = await cli(["push", "noop", `${proxyHost}/proxied/noop:1`, "--plain-http", "--username", "bob", "--password-stdin"], { stdin: "pw" });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /503, retrying/);
    assert.ok(tokenQueries.length >= 1);
    assert.equal(tokenQueries[0].get("service"), "test-registry");
    assert.deepEqual(tokenQueries[0].getAll("scope"), ["repository:proxied/noop:pull,push"]);
    const info = JSON.parse(skopeo(["inspect", "--tls-verify=false", `docker://${upstream}/proxied/noop:1`]));
    assert.equal(info.Digest, digestFrom(res.stdout));
    assert.ok(log.some((l) => l.startsWith("HEAD /v2/proxied/noop/blobs/sha256:")));

    // A terminal 500 on a blob upload: no retry, no manifest PUT, a message naming the failure.
    log.length = 0;
    state.fail500OnBlobPut = true;
    const bad = await cli(["push", "noop", `${proxyHost}/proxied/other:1`, "--plain-http", "--format", "oci", "--username", "bob", "--password-stdin"], { stdin: "pw" });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /uploading blob sha256:[a-f0-9]{12} failed: HTTP 500 \(UNKNOWN: disk full\)/);
    assert.equal(log.filter((l) => l.startsWith("PUT") && l.includes("/blobs/uploads/")).length, 1, log.join("\n"));
    assert.ok(!log.some((l) => l.includes("/manifests/")), log.join("\n"));
    assert.match(skopeoFails(["inspect", "--tls-verify=false", `docker://${upstream}/proxied/other:1`]), /manifest unknown|not found|404/i);

    const wrong = await cli(["push", "noop", `${proxyHost}/proxied/noop:2`, "--plain-http", "--username", "bob", "--password-stdin"], { stdin: "nope" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /authentication failed/);
    assert.ok(existsSync(pluginWasm("noop")));
  });
});
