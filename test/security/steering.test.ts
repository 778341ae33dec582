// Attack class "chains that cannot be steered" (issue 15, item 3; attack-findings #3): a client sends the canary
// tag header so that a route-scoped plugin (auth, rate-limit, cors `_rules_` by `_match_route_`) checks the
// rules of one route, then canary rewrites the tag and the request lands on a route those rules never covered.
// Black-box, as a user deploys it: the chain `tollgate gen envoy` orders, the routes `tollgate gen canary-routes
// --format envoy` prints, served by `tollgate up` on the embedded engine and on real Envoy 1.40.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { buildPlugins } from "../../tools/build/plugins.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { chainWarnings } from "../../tools/k8s/chain.ts";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { foldRawHeaders } from "../helpers/http.ts";
import { spawnUp } from "../../tools/diff/gateway.ts";

type Obj = Record<string, unknown>;
const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), "tollgate-steering-"));
const echoes: EchoServer[] = [];
/** Cluster names of canary-routes' default --cluster mapping, one echo upstream each. */
const UPSTREAMS = ["stable", "canary"];
const children: ChildProcess[] = [];

const CONFIGS: Record<string, Obj> = {
  canary: { rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "equal", value: "true" }] }, tag: "v2" }] },
  auth: {
    consumers: [{ name: "alice", keys: ["alice-key"] }],
    key_auth: { keys: ["x-api-key"] },
    global_auth: false,
    _rules_: [{ _match_route_: ["svc"], allow: ["alice"] }],
  },
  "rate-limit": { _rules_: [{ _match_route_: ["svc"], rules: [{ name: "per-client", key: { header: "x-client-id" }, limit: { requests: 3, per: "minute" } }] }] },
  cors: { _rules_: [{ _match_route_: ["svc"], allow_origins: ["https://app.example.com"], allow_methods: ["GET"], max_age: 60 }] },
};

/** Runs the CLI from source (the code under test, not a stale bundle). */
function cli(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/cli/main.ts"), ...args], { cwd: root, encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function configFile(name: string, config: Obj): string {
  const f = join(tmp, `${name}.json`);
  writeFileSync(f, JSON.stringify(config));
  return f;
}

/** The user's bootstrap: `gen envoy <plugins>` with the `gen canary-routes --format envoy` routes pasted in. */
function generatedBootstrap(routeEdit?: (routes: Obj[]) => void, authConfig: Obj = CONFIGS.auth): { file: string; stderr: string } {
  const plugins = ["cors", "auth", "rate-limit", "canary"];
  const cfg = (p: string) => ["--config", `${p}=${configFile(p, p === "auth" ? authConfig : CONFIGS[p])}`];
  const boot = cli(["gen", "envoy", ...plugins, ...plugins.flatMap(cfg), "--upstream", "127.0.0.1:1", "--listen", "127.0.0.1:1", "--admin", "127.0.0.1:1"]);
  assert.equal(boot.status, 0, boot.stderr);
  const routes = cli(["gen", "canary-routes", "--config", configFile("canary", CONFIGS.canary), "--service", "svc.default.svc.cluster.local", "--format", "envoy"]);
  assert.equal(routes.status, 0, routes.stderr);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parse(boot.stdout) as any;
  const r = parse(routes.stdout) as Obj[];
  routeEdit?.(r);
  const listener = doc.static_resources.listeners[0];
  listener.address = { socket_address: { address: "127.0.0.1", port_value: 0 } };
  listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes = r;
  doc.admin = { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } };
  const up = doc.static_resources.clusters[0];
  doc.static_resources.clusters = echoes.map((e, i) => ({
    ...up,
    name: UPSTREAMS[i],
    load_assignment: { cluster_name: UPSTREAMS[i], endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: e.port } } } }] }] },
  }));
  const file = join(tmp, `bootstrap-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return { file, stderr: boot.stderr + routes.stderr };
}

/** `tollgate up <file> --engine <engine>`; resolves with the listener's base URL once it serves. */
async function up(file: string, engine: "embedded" | "envoy"): Promise<{ url: string; stop(): Promise<void> }> {
  const { child, listeners } = await spawnUp(file, engine, undefined, (c) => children.push(c));
  return {
    url: [...listeners.values()][0],
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Res { status: number; headers: Record<string, string>; upstream: string; seen: Record<string, string | string[]> }

function send(base: string, path: string, headers: Record<string, string>, method = "GET"): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { host: "svc.example", ...headers }, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () => {
        const h = foldRawHeaders(res.rawHeaders);
        let seen: Record<string, string | string[]> = {};
        if (h["x-echo-upstream"]) seen = JSON.parse(body).headers;
        resolve({ status: res.statusCode ?? 0, headers: h, upstream: h["x-echo-upstream"] ?? "none", seen });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

before(async () => {
  await buildPlugins(["cors", "auth", "rate-limit", "canary"]);
  for (const name of UPSTREAMS) echoes.push(await startEcho({ name }));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(echoes.map((e) => e.close()));
  rmSync(tmp, { recursive: true, force: true });
});

/** The attack and its neighbours, against the chain and routes tollgate generates. */
async function safeChain(url: string): Promise<void> {
  const plain = await send(url, "/private", {});
  assert.equal(plain.status, 401, "no credential on the service's route → 401");

  const steered = await send(url, "/private", { "x-canary-version": "v2" });
  assert.equal(steered.status, 401, `the client's tag must not pick another route's rules (got ${steered.status} from ${steered.upstream})`);
  const steeredOther = await send(url, "/private", { "x-canary-version": "v1" });
  assert.equal(steeredOther.status, 401);

  const alice = await send(url, "/private", { "x-api-key": "alice-key", "x-canary-version": "v2" });
  assert.equal(alice.status, 200);
  assert.equal(alice.upstream, "stable", "the client's tag is dropped: the plugin decides the version");
  assert.equal(alice.seen["x-mse-consumer"], "alice");
  assert.equal(alice.seen["x-canary-version"], undefined);

  const beta = await send(url, "/private", { "x-api-key": "alice-key", "x-beta": "true" });
  assert.equal(beta.status, 200);
  assert.equal(beta.upstream, "canary", "canary's own decision still routes");
  assert.equal(beta.seen["x-canary-version"], "v2");
  const betaAnon = await send(url, "/private", { "x-beta": "true" });
  assert.equal(betaAnon.status, 401, "the canary version is covered by the same rules");

  // rate-limit's route rule holds whatever tag the client sends: 3 per minute for this client id.
  const statuses: number[] = [];
  for (const tag of ["v2", "v1", "", "v2", "v2"]) {
    const h: Record<string, string> = { "x-api-key": "alice-key", "x-client-id": `steer-${url}` };
    if (tag) h["x-canary-version"] = tag;
    statuses.push((await send(url, "/private", h)).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);

  // cors' route rule holds too: a preflight from another origin gets no grant, with or without the tag.
  for (const tag of [undefined, "v2"]) {
    const h: Record<string, string> = { origin: "https://evil.example", "access-control-request-method": "GET" };
    if (tag) h["x-canary-version"] = tag;
    const evil = await send(url, "/private", h, "OPTIONS");
    assert.equal(evil.headers["access-control-allow-origin"], undefined, `tag ${tag}: no grant for another origin`);
  }
  const good = await send(url, "/private", { origin: "https://app.example.com", "access-control-request-method": "GET", "x-canary-version": "v2" }, "OPTIONS");
  assert.equal(good.headers["access-control-allow-origin"], "https://app.example.com");
}

/** The class itself, on per-tag route names (the old canary-routes output): steerable on both engines. */
async function perTagNames(url: string): Promise<void> {
  assert.equal((await send(url, "/private", {})).status, 401);
  const steered = await send(url, "/private", { "x-canary-version": "v2" });
  assert.equal(steered.status, 200, "with per-tag names the client's tag picks the uncovered route's (empty) rules");
  assert.equal(steered.upstream, "stable");
  assert.equal(steered.seen["x-mse-consumer"], undefined);
}

const perTag = (routes: Obj[]) => {
  routes[0].name = "tag-v2";
  routes[routes.length - 1].name = "stable";
};
const perTagAuth = { ...CONFIGS.auth, _rules_: [{ _match_route_: ["stable"], allow: ["alice"] }] };

for (const engine of ["embedded", "envoy"] as const) {
  describe(`steering on the ${engine} engine`, () => {
    test(`${engine}: a client-sent canary tag cannot move a request past auth, rate-limit or cors route rules (gen envoy + gen canary-routes)`, async (t) => {
      if (engine === "envoy" && !requireEnvoy(t)) return;
      const { file, stderr } = generatedBootstrap();
      assert.doesNotMatch(stderr, /warning:/, "the generated chain is safe: gen warns about nothing");
      const gw = await up(file, engine);
      try {
        await safeChain(gw.url);
      } finally {
        await gw.stop();
      }
    });

    test(`${engine}: with per-tag route names the same request is steered (the class the naming closes)`, async (t) => {
      if (engine === "envoy" && !requireEnvoy(t)) return;
      const { file } = generatedBootstrap(perTag, perTagAuth);
      const gw = await up(file, engine);
      try {
        await perTagNames(gw.url);
      } finally {
        await gw.stop();
      }
    });
  });
}

describe("gen warns on chains a client can steer", () => {
  const chain = (names: string[], configs: Record<string, Obj>) => names.map((name) => ({ name, config: configs[name] ?? null }));
  test("the default order of every plugin, with route rules on the one canary route name: no warning", () => {
    assert.deepEqual(chainWarnings(chain(["cors", "auth", "rate-limit", "canary"], CONFIGS)), []);
  });
  test("rules on per-tag route names or by _match_service_ next to canary", () => {
    const w = chainWarnings(chain(["auth", "canary"], { ...CONFIGS, auth: { ...CONFIGS.auth, _rules_: [{ _match_route_: ["tag-v2"], allow: ["alice"] }, { _match_service_: ["canary"], allow: ["alice"] }] } }));
    assert.equal(w.length, 2);
    assert.match(w[0], /_match_service_ \(canary\)/);
    assert.match(w[1], /per-tag routes \(tag-v2\)/);
  });
  test("canary tagging on auth's consumer header before auth; rate-limit keyed on it before auth; cors after auth", () => {
    const canary = { rules: [{ match: { all: [{ type: "header", key: "X-MSE-Consumer", op: "equal", value: "alice" }] }, tag: "v2" }] };
    const rl = { rules: [{ name: "c", key: { header: "x-mse-consumer" }, limit: { requests: 1, per: "second" } }] };
    const w = chainWarnings(chain(["canary", "rate-limit", "auth", "cors"], { ...CONFIGS, canary, "rate-limit": rl }));
    assert.equal(w.length, 3, w.join("\n"));
    assert.match(w[0], /canary decides on x-mse-consumer .* runs before auth/);
    assert.match(w[1], /rate-limit keys on x-mse-consumer .* runs before auth/);
    assert.match(w[2], /cors runs after auth/);
    // The same plugins in their default order are safe.
    assert.deepEqual(chainWarnings(chain(["cors", "auth", "rate-limit", "canary"], { ...CONFIGS, canary, "rate-limit": rl })), []);
  });
  test("the CLI prints the warning on stderr and still writes the manifests", () => {
    const auth = configFile("auth-service", { ...CONFIGS.auth, _rules_: [{ _match_service_: ["canary"], allow: ["alice"] }] });
    const r = cli(["gen", "wasmplugin", "auth", "canary", "--config", `auth=${auth}`, "--config", `canary=${configFile("canary", CONFIGS.canary)}`, "--url", "oci://r.example/{name}:1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^warning: auth selects _rules_ by _match_service_/m);
    assert.match(r.stdout, /kind: WasmPlugin/);
  });
});
