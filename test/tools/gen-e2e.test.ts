// The generated Envoy outputs run: `gen envoy` + `gen canary-routes --format envoy`, composed as a user would,
// served by the embedded gateway (which reads the same bootstrap Envoy would) with two real upstreams.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { buildPlugins } from "../../tools/build/plugins.ts";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { Gateway } from "../../tools/gateway/server.ts";
import { checkBootstrap } from "../../tools/k8s/check.ts";
import { envoyCanaryRoutes } from "../../tools/k8s/canary-routes.ts";
import { envoyBootstrap, type Obj } from "../../tools/k8s/generate.ts";
import { loadPluginMeta, pluginNames } from "../../tools/plugins/index.ts";
import { repoRoot } from "../../tools/paths.ts";

const servers: Server[] = [];
let gw: Gateway | undefined;
after(async () => {
  await gw?.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function upstream(name: string): Promise<number> {
  const s = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`${name} ${req.headers["x-canary-version"] ?? "-"}`);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
}

test("gen envoy + canary routes: the canary tag header routes to the canary upstream", async (t) => {
  if (!pluginNames().includes("canary")) return t.skip("plugins/canary/plugin.json does not exist yet");
  await buildPlugins(["canary"]);
  const meta = loadPluginMeta("canary");
  const example = meta.examples.find((e) => JSON.stringify(e.config).includes("x-beta"));
  if (!example) return t.skip("no canary example with an x-beta header rule");
  const config = example.config;
  const [stablePort, canaryPort] = [await upstream("stable"), await upstream("canary")];

  const boot = envoyBootstrap([{ meta, config }], {
    upstream: { host: "127.0.0.1", port: stablePort },
    listen: { host: "127.0.0.1", port: 10000 },
    admin: null,
    wasmFile: (n) => `dist/plugins/${n}.wasm`,
  });
  // What the README tells users to do: paste the canary route entries, add the canary cluster.
  const sr = boot.static_resources as Obj;
  const clusters = sr.clusters as Obj[];
  clusters.push({ ...structuredClone(clusters[0]), name: "canary", load_assignment: { cluster_name: "canary", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: canaryPort } } } }] }] } });
  const hcm = ((((sr.listeners as Obj[])[0].filter_chains as Obj[])[0].filters as Obj[])[0].typed_config as Obj);
  const vh = ((hcm.route_config as Obj).virtual_hosts as Obj[])[0];
  vh.routes = envoyCanaryRoutes({ config, service: "demo", stable: "v1", canary: "v2", clusterFor: (tag) => (tag === "v1" ? "upstream" : "canary") });
  assert.deepEqual(checkBootstrap(boot), []);

  gw = await Gateway.start(parseBootstrap(boot, "generated", repoRoot()), { workers: 1, portOverride: { tollgate: 0 } });
  const port = gw.listeners[0].port;
  const get = async (headers: Record<string, string>) => (await (await fetch(`http://127.0.0.1:${port}/`, { headers })).text());
  assert.equal(await get({ "x-beta": "true" }), "canary v2");
  assert.equal(await get({}), "stable v1");
});
