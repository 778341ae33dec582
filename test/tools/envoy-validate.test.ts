// Every envoy-configs/*.yaml checked against the Envoy v3 API protos (strict: unknown fields fail, every
// @type resolved) — the stand-in for `envoy --mode validate`, which cannot run here.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { validateBootstrap, validateBootstrapFile, validateEnvoyMessage } from "../../tools/envoy/validate.ts";
import { repoRoot } from "../../tools/paths.ts";

const dir = join(repoRoot(), "envoy-configs");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));

test("envoy-configs/ has the demo and the noop configs", () => {
  assert.ok(files.includes("demo.yaml") && files.includes("noop.yaml"), files.join(", "));
});

for (const f of files) {
  test(`envoy-configs/${f} validates against the Envoy v3 protos`, () => {
    assert.deepEqual(validateBootstrapFile(join(dir, f)), []);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const demo = (): any => parse(readFileSync(join(dir, "demo.yaml"), "utf8"));
const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

test("strictness: unknown fields, unresolvable @type, wrong shapes, PGV rules, oneofs — each with its YAML path", () => {
  const cases: Array<[string, (d: ReturnType<typeof demo>) => void, string]> = [
    ["unknown top-level", (d) => (d.bogus = 1), "bogus: unknown field 'bogus' in envoy.config.bootstrap.v3.Bootstrap"],
    ["unknown nested in typed_config", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx = "x"), `${HCM}.stat_prefx: unknown field`],
    ["unknown inside wasm config", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.rootid = "x"), `${HCM}.http_filters[0].typed_config.config.rootid: unknown field`],
    ["@type unknown", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"] = "type.googleapis.com/envoy.nope.v3.Nope"), `${HCM}.@type: type envoy.nope.v3.Nope is not defined`],
    ["@type missing", (d) => delete d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"], `${HCM}.@type: is required`],
    ["enum", (d) => (d.static_resources.clusters[0].type = "STATICK"), "static_resources.clusters[0].type: must be one of"],
    ["duration", (d) => (d.static_resources.clusters[0].connect_timeout = "1 second"), "static_resources.clusters[0].connect_timeout: must be a duration"],
    ["uint32 bound", (d) => (d.admin.address.socket_address.port_value = 65536), "admin.address.socket_address.port_value: must be at most 65535"],
    ["list expected", (d) => (d.static_resources.clusters = { name: "x" }), "static_resources.clusters: must be a list"],
    ["string expected", (d) => (d.static_resources.clusters[0].name = 5), "static_resources.clusters[0].name: must be a string"],
    ["required string", (d) => delete d.static_resources.clusters[0].name, "static_resources.clusters[0].name: is required"],
    ["oneof twice", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[1].direct_response = { status: 200 }), "only one of 'route'"],
    ["StringValue shape", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration.value = { a: 1 }), `${HCM}.http_filters[0].typed_config.config.configuration.value: must be a string`],
  ];
  for (const [what, mutate, want] of cases) {
    const d = demo();
    mutate(d);
    const errors = validateBootstrap(d);
    assert.ok(errors.some((e) => e.includes(want)), `${what}: wanted '${want}' in ${JSON.stringify(errors, null, 1)}`);
  }
});

test("validateEnvoyMessage checks any Envoy message by name (used for generated configs)", () => {
  const wasm = {
    config: {
      name: "cors",
      root_id: "cors",
      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: "{}" },
      vm_config: { vm_id: "cors", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "cors.wasm" } } },
    },
  };
  assert.deepEqual(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", wasm), []);
  assert.deepEqual(validateEnvoyMessage("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", wasm), []);
  assert.deepEqual(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", { config: { vmConfig: { vmId: "x" } } }), [], "lowerCamelCase JSON names are accepted like Envoy's JSON parser does");
  assert.match(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", { config: { fail_open: "yes" } })[0], /^config\.fail_open: must be true or false/);
  assert.match(validateEnvoyMessage("envoy.Nope", {})[0], /not defined/);
});
