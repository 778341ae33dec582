// The connection manager's request mutations on both engines from one bootstrap, per HttpConnectionManager
// setting (use_remote_address, xff_num_trusted_hops): what the upstream receives (x-forwarded-for/-proto,
// x-envoy-* sanitising, te, expect) and the addresses plugins read (source.address, request.scheme, read by
// the probe fixture). The embedded engine must answer exactly as Envoy 1.40 does; the security-relevant
// facts are also asserted outright, so a change in both cannot pass unnoticed.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { envoyLocalAddress } from "../../tools/gateway/forwarding.ts";
import { bootstrapDoc, useProbeAndEcho, wasmFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const setup = useProbeAndEcho();

function bootstrap(hcmExtra: object): object {
  return bootstrapDoc({ filters: [wasmFilter("probe", setup.probe)], hcm: hcmExtra as Record<string, unknown> }, { stable: setup.echo.port });
}

const SPOOF = {
  "x-forwarded-for": "9.9.9.9, 1.2.3.4",
  "x-forwarded-proto": "https",
  "x-envoy-external-address": "5.5.5.5",
  "x-envoy-internal": "true",
  "x-envoy-retry-on": "5xx",
  "x-envoy-max-retries": "9",
  "x-envoy-upstream-rq-timeout-ms": "1",
  "x-envoy-force-trace": "1",
  "x-envoy-decorator-operation": "op",
  "x-envoy-downstream-service-cluster": "c",
  "x-envoy-original-path": "/orig",
  "x-forwarded-client-cert": "By=spiffe://x",
  "x-envoy-custom": "kept",
};
const CASES: Array<Record<string, string>> = [
  {},
  { "x-forwarded-for": "1.2.3.4" },
  SPOOF,
  { "x-forwarded-proto": "ftp" },
  { te: "gzip, trailers" },
  { te: "gzip" },
  { expect: "100-continue" },
];
const PROPS = ["source.address", "request.scheme"];

interface Seen {
  upstream: Record<string, string | string[]>;
  props: string[];
}

async function exchange(gw: EngineHandle, headers: Record<string, string>): Promise<Seen> {
  const script = PROPS.map((p) => "get_property " + p.replace(/\./g, "%00")).join(";");
  const before = gw.logs().length;
  const body = await new Promise<string>((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port: gw.port("l"), path: "/x", headers: { ...headers, "x-probe-request_headers": script, connection: "close" }, timeout: 10_000 }, (res) => {
      let b = "";
      res.on("data", (c) => (b += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`status ${res.statusCode}: ${b}`))));
    });
    r.on("error", reject);
    r.end();
  });
  const upstream = (JSON.parse(body) as { headers: Record<string, string | string[]> }).headers;
  for (const k of ["x-request-id", "x-probe-request_headers", "host"]) delete upstream[k];
  let props: string[] = [];
  for (let i = 0; i < 50 && props.length < PROPS.length; i++) {
    props = gw.logs().slice(before).filter((l) => l.startsWith("get_property")).map((l) => {
      const m = / r=(\d+)(?:.* text=(.*))?$/.exec(l)!;
      return m[1] === "0" ? m[2].replace(/^127\.0\.0\.1:\d+$/, "127.0.0.1:<peer port>") : `r=${m[1]}`;
    });
    if (props.length < PROPS.length) await new Promise((r) => setTimeout(r, 20));
  }
  return { upstream, props };
}

const SETTINGS: Array<{ name: string; hcm: object; check: (c: Record<string, string>, s: Seen) => void }> = [
  {
    name: "default (use_remote_address: false)",
    hcm: {},
    check: (c, s) => {
      // The downstream address is the last XFF entry: a client chooses it. Configure the edge (README).
      if (c === SPOOF) assert.equal(s.props[0], "1.2.3.4:0");
      assert.equal(s.upstream["x-envoy-internal"], undefined);
      assert.equal(s.upstream["x-envoy-retry-on"], undefined);
      assert.equal(s.upstream["x-forwarded-client-cert"], undefined);
    },
  },
  {
    name: "use_remote_address: true",
    hcm: { use_remote_address: true },
    check: (c, s) => {
      assert.equal(s.props[0], "127.0.0.1:<peer port>", "the TCP peer, whatever XFF says");
      assert.equal(s.upstream["x-envoy-external-address"], "127.0.0.1");
      assert.equal(s.upstream["x-forwarded-proto"], "http", "an untrusted x-forwarded-proto is overwritten");
      if (c === SPOOF) assert.equal(s.upstream["x-forwarded-for"], `9.9.9.9, 1.2.3.4,${envoyLocalAddress()}`);
      assert.equal(s.upstream["x-envoy-decorator-operation"], undefined, "edge requests lose it");
    },
  },
  {
    name: "use_remote_address: true, xff_num_trusted_hops: 1",
    hcm: { use_remote_address: true, xff_num_trusted_hops: 1 },
    check: (c, s) => {
      if (c === SPOOF) {
        assert.equal(s.props[0], "1.2.3.4:0", "the address the trusted proxy appended");
        assert.equal(s.props[1], "https", "a trusted x-forwarded-proto sets the scheme");
      }
    },
  },
  {
    name: "use_remote_address: false, xff_num_trusted_hops: 1",
    hcm: { xff_num_trusted_hops: 1 },
    check: (c, s) => {
      if (c === SPOOF) assert.equal(s.props[0], "9.9.9.9:0");
      if (c["x-forwarded-for"] === "1.2.3.4") assert.equal(s.props[0], "127.0.0.1:<peer port>", "too few entries: the peer");
    },
  },
];

for (const setting of SETTINGS) {
  test(`connection manager request mutations, ${setting.name}: embedded engine = Envoy 1.40`, { timeout: 120_000 }, async (t) => {
    const envoy = requireEnvoy(t);
    if (!envoy) return;
    const seen: Record<string, Seen[]> = {};
    for (const engine of ENGINES) {
      const gw = await startEngine(engine, bootstrap(setting.hcm), envoy, { concurrency: 1 });
      try {
        seen[engine] = [];
        for (const c of CASES) seen[engine].push(await exchange(gw, c));
      } finally {
        await gw.stop();
      }
    }
    CASES.forEach((c, i) => {
      assert.deepEqual(seen.embedded[i], seen.envoy[i], `case ${JSON.stringify(c)}: embedded vs Envoy`);
      setting.check(c, seen.envoy[i]);
    });
  });
}
