// tollgate gen for auth's remote_jwks: gen envoy defines the cluster the plugin fetches keys through (TLS with SNI
// for https; Envoy 1.40 accepts the bootstrap with --mode validate), gen wasmplugin prints the Istio ServiceEntry
// (+ TLS-originating DestinationRule) of an external IdP and says which cluster name Istio gives it; an in-mesh
// IdP needs no ServiceEntry; a remote_jwks cluster that clashes with the bootstrap's own is refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { envoyBinary } from "../../tools/envoy/launcher.ts";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

type Obj = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), "tollgate-gen-idp-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function config(name: string, consumers: Obj[]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ consumers, jwt_auth: {} }));
  return file;
}

const external = config("external", [{ name: "a", jwt: { issuer: "https://idp.example.com/realms/x", remote_jwks: { uri: "https://idp.example.com/realms/x/protocol/openid-connect/certs", cluster: "outbound|80||idp.example.com" } } }]);
const plainEnvoy = config("plain", [
  { name: "a", jwt: { issuer: "https://idp.example.com/realms/x", remote_jwks: { uri: "https://idp.example.com/realms/x/protocol/openid-connect/certs", cluster: "idp" } } },
  { name: "b", jwt: { issuer: "http://127.0.0.1:8180", remote_jwks: { discovery: true, cluster: "local-idp" } } },
]);
const inMesh = config("mesh", [{ name: "a", jwt: { issuer: "http://keycloak.auth.svc.cluster.local:8080/realms/y", remote_jwks: { discovery: true, cluster: "idp" } } }]);
const clash = config("clash", [{ name: "a", jwt: { issuer: "https://idp.example.com", remote_jwks: { uri: "https://idp.example.com/certs", cluster: "upstream" } } }]);

function gen(args: string[]): { code: number; docs: Obj[]; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "gen", ...args], { cwd: repoRoot(), encoding: "utf8", timeout: 60_000 });
  const docs = r.status === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj) : [];
  return { code: r.status ?? -1, docs, stderr: r.stderr, stdout: r.stdout };
}

test("gen envoy: one cluster per remote_jwks, TLS with SNI for https, STATIC for an IP; Envoy accepts it", (t) => {
  const out = gen(["envoy", "auth", "--config", plainEnvoy, "--upstream", "127.0.0.1:8080"]);
  assert.equal(out.code, 0, out.stderr);
  const clusters = out.docs[0].static_resources.clusters as Obj[];
  const idp = clusters.find((c) => c.name === "idp")!;
  assert.equal(idp.type, "STRICT_DNS");
  assert.deepEqual(idp.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: "idp.example.com", port_value: 443 });
  assert.equal(idp.transport_socket.typed_config.sni, "idp.example.com");
  const local = clusters.find((c) => c.name === "local-idp")!;
  assert.equal(local.type, "STATIC");
  assert.deepEqual(local.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: "127.0.0.1", port_value: 8180 });
  assert.equal(local.transport_socket, undefined, "http: no TLS");

  const envoy = requireEnvoy(t);
  if (!envoy) return;
  // The wasm file must exist for --mode validate: point it at the built module.
  const file = join(dir, "bootstrap.yaml");
  writeFileSync(file, out.stdout.replaceAll("filename: dist/plugins/", `filename: ${join(repoRoot(), "dist", "plugins")}/`));
  const v = spawnSync(envoyBinary(envoy), ["--mode", "validate", "-c", file], { encoding: "utf8", timeout: 60_000 });
  assert.equal(v.status, 0, `${v.stdout}\n${v.stderr}`);
});

test("gen envoy: a remote_jwks cluster named like the bootstrap's own cluster is refused", () => {
  const out = gen(["envoy", "auth", "--config", clash, "--upstream", "127.0.0.1:8080"]);
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /remote_jwks cluster 'upstream' clashes with the bootstrap's own cluster/);
});

test("gen wasmplugin: ServiceEntry + TLS-originating DestinationRule for an external https IdP; Istio's cluster name", () => {
  const out = gen(["wasmplugin", "auth", "--config", external, "--url", "oci://ghcr.io/acme/auth:1"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(out.docs.map((d) => d.kind), ["WasmPlugin", "ServiceEntry", "DestinationRule"]);
  const se = out.docs[1];
  assert.deepEqual(se.spec.hosts, ["idp.example.com"]);
  assert.equal(se.spec.location, "MESH_EXTERNAL");
  assert.deepEqual(se.spec.ports[0], { number: 80, name: "http", protocol: "HTTP", targetPort: 443 });
  const dr = out.docs[2];
  assert.deepEqual(dr.spec.trafficPolicy.portLevelSettings[0], { port: { number: 80 }, tls: { mode: "SIMPLE", sni: "idp.example.com" } });
  assert.doesNotMatch(out.stderr, /remote_jwks\.cluster/, "the cluster is already Istio's name");

  const plain = gen(["wasmplugin", "auth", "--config", plainEnvoy, "--url", "oci://ghcr.io/acme/auth:1"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /remote_jwks\.cluster is 'idp'; with the ServiceEntry below, Istio names the IdP's cluster 'outbound\|80\|\|idp\.example\.com'/);
});

test("gen wasmplugin: an in-mesh IdP (*.svc.cluster.local) needs no ServiceEntry", () => {
  const out = gen(["wasmplugin", "auth", "--config", inMesh, "--url", "oci://ghcr.io/acme/auth:1"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(out.docs.map((d) => d.kind), ["WasmPlugin"]);
  assert.match(out.stderr, /in Istio the in-mesh IdP's cluster is 'outbound\|8080\|\|keycloak\.auth\.svc\.cluster\.local'/);
});
