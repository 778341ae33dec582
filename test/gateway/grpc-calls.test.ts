// proxy_grpc_call black-box on both engines: the grpc-call fixture calls ShouldRateLimit on the real
// envoyproxy/ratelimit (Redis behind it) through gRPC clusters of one bootstrap, run unchanged on Envoy 1.40 and
// on the embedded engine, and replies with what it got. Each engine must give the expected result — token,
// callback, gRPC status, status message, response message — for: answers (OK, OVER_LIMIT), the server's own
// error statuses, a serialized GrpcService as the upstream, an unknown cluster, cancel and close, a timeout
// (service frozen), timeout 0, the service down, and an HTTP/1.1 cluster.
import assert from "node:assert/strict";
import { test } from "node:test";
import protobuf from "protobufjs";
import { closedPort } from "../../tools/diff/gateway.ts";
import { bootstrapDoc, DIRECT_OK, wasmFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { startRateLimitService, type RateLimitService } from "../helpers/ratelimit-service.ts";
import { fixtureWasm } from "../robustness/helpers.ts";

// The messages of envoy.service.ratelimit.v3 the test reads and writes (field numbers from rls.proto).
const root = protobuf.parse(`syntax = "proto3";
message RateLimitRequest { string domain = 1; repeated RateLimitDescriptor descriptors = 2; uint32 hits_addend = 3; }
message RateLimitDescriptor { message Entry { string key = 1; string value = 2; } repeated Entry entries = 1; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RateLimitResponse {
  enum Code { UNKNOWN = 0; OK = 1; OVER_LIMIT = 2; }
  message RateLimit { enum Unit { UNKNOWN = 0; SECOND = 1; MINUTE = 2; HOUR = 3; DAY = 4; MONTH = 5; YEAR = 6; WEEK = 7; }
    string name = 3; uint32 requests_per_unit = 1; Unit unit = 2; }
  message DescriptorStatus { Code code = 1; RateLimit current_limit = 2; uint32 limit_remaining = 3; Duration duration_until_reset = 4; }
  Code overall_code = 1; repeated DescriptorStatus statuses = 2;
}`, { keepCase: true }).root;
const Req = root.lookupType("RateLimitRequest");
const Res = root.lookupType("RateLimitResponse");
const reqHex = (o: object) => Buffer.from(Req.encode(Req.fromObject(o)).finish()).toString("hex");

const SERVICE_CONFIG = `domain: edge
descriptors:
  - key: per-key
    rate_limit:
      unit: hour
      requests_per_unit: 2
`;
const ASK = reqHex({ domain: "edge", descriptors: [{ entries: [{ key: "per-key", value: "alice" }] }], hits_addend: 1 });

/** A STATIC loopback cluster; `h2`: HTTP/2 upstream (what gRPC needs), else Envoy's default HTTP/1.1. */
function cluster(name: string, port: number, h2: boolean): Record<string, unknown> {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    ...(h2 ? {
      typed_extension_protocol_options: {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
          "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    } : {}),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

interface Reply {
  call: number;
  token: number;
  event?: "receive" | "close";
  size?: number;
  buffer?: number;
  hex?: string;
  status?: number;
  get_status?: number;
  code?: number;
  message?: string;
  cancel?: number[];
}

async function ask(eng: EngineHandle, h: Record<string, string>): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${eng.port("l")}/`, { headers: h, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  assert.equal(res.status, 200, `${eng.engine}: ${text}`);
  return JSON.parse(text) as Reply;
}

/** The decoded RateLimitResponse of a receive reply, without the time-dependent duration_until_reset. */
function decoded(r: Reply): unknown {
  assert.equal(r.event, "receive", JSON.stringify(r));
  assert.equal(r.buffer, 0, "GrpcReceiveBuffer is readable during on_grpc_receive");
  assert.equal(r.size, (r.hex ?? "").length / 2);
  const o = Res.toObject(Res.decode(Buffer.from(r.hex!, "hex")), { enums: String, defaults: false }) as {
    statuses?: Array<Record<string, unknown>>;
  };
  for (const s of o.statuses ?? []) delete s.duration_until_reset;
  return o;
}

const REFUSED = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure" +
  "{upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}}";

for (const engine of ENGINES) {
  test(`proxy_grpc_call to envoyproxy/ratelimit on ${engine}`, { timeout: 120_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const svc: RateLimitService | null = await startRateLimitService(t, { config: SERVICE_CONFIG });
    if (!svc) return;
    t.after(() => svc.stop());
    const wasm = await fixtureWasm("grpc-call");
    const doc = bootstrapDoc({ filters: [wasmFilter("grpc", wasm)], routes: [DIRECT_OK] }) as { static_resources: { clusters: unknown[] } };
    doc.static_resources.clusters = [
      cluster("rls", svc.grpcPort, true),
      cluster("rls_down", await closedPort(), true),
      cluster("rls_h1", svc.grpcPort, false),
    ];
    const eng = await startEngine(engine, doc, envoy);
    t.after(() => eng.stop());
    const rls = { "x-grpc-cluster": "rls", "x-grpc-message": ASK };

    // Answers: a token per call (5, 9, … per VM), on_grpc_receive with the response message.
    const limit = { requests_per_unit: 2, unit: "HOUR" };
    let r = await ask(eng, rls);
    assert.equal(r.token, 5);
    assert.deepEqual(decoded(r), { overall_code: "OK", statuses: [{ code: "OK", current_limit: limit, limit_remaining: 1 }] });
    r = await ask(eng, { ...rls, "x-grpc-metadata": "x-tenant=a,x-trace-bin=ab" });
    assert.equal(r.token, 9);
    assert.deepEqual(decoded(r), { overall_code: "OK", statuses: [{ code: "OK", current_limit: limit }] });
    // The upstream as a serialized GrpcService {envoy_grpc {cluster_name: "rls"}}.
    r = await ask(eng, { "x-grpc-envoy-cluster": "rls", "x-grpc-message": ASK });
    assert.equal(r.token, 13);
    assert.deepEqual(decoded(r), { overall_code: "OVER_LIMIT", statuses: [{ code: "OVER_LIMIT", current_limit: limit }] });

    // A GrpcService naming an unknown cluster: a token is spent, InternalFailure, then on_grpc_close(14).
    assert.deepEqual(await ask(eng, { "x-grpc-envoy-cluster": "nope", "x-grpc-message": ASK }), { call: 10, token: 0xdeadbeef });
    // A cluster name Envoy does not know: ParseFailure, no token.
    assert.deepEqual(await ask(eng, { "x-grpc-cluster": "nope", "x-grpc-message": ASK }), { call: 4, token: 0xdeadbeef });

    // The server's own statuses: grpc-message as sent (not percent-decoded) + {via_upstream}.
    const closes: Array<[Record<string, string>, number, string]> = [
      [{ ...rls, "x-grpc-message": reqHex({ domain: "" }) }, 2, "rate limit domain must not be empty{via_upstream}"],
      [{ ...rls, "x-grpc-message": "ffffffff" }, 13, "grpc: error unmarshalling request: proto:%C2%A0cannot parse invalid wire-format data{via_upstream}"],
      [{ ...rls, "x-grpc-method": "Nope" }, 12, "unknown method Nope for service envoy.service.ratelimit.v3.RateLimitService{via_upstream}"],
      // timeout_ms 0 still goes out as grpc-timeout 0m: the server's deadline has passed.
      [{ ...rls, "x-grpc-timeout": "0" }, 4, "context deadline exceeded{via_upstream}"],
      [{ ...rls, "x-grpc-cluster": "rls_down" }, 14, REFUSED],
      [{ ...rls, "x-grpc-cluster": "rls_h1" }, 14, "upstream connect error or disconnect/reset before headers. reset reason: protocol error{upstream_reset_before_response_started{protocol_error}}"],
    ];
    let token = 21;
    for (const [h, status, message] of closes) {
      r = await ask(eng, h);
      assert.deepEqual(r, { call: 0, token, event: "close", status, get_status: 0, code: status, message }, JSON.stringify(h));
      token += 4;
    }

    // Cancel and close: Ok, then NotFound; no callback ever arrives for them.
    assert.deepEqual(await ask(eng, { ...rls, "x-grpc-cancel": "cancel" }), { call: 0, token, cancel: [0, 1] });
    const cancelled = [token, token + 4];
    token += 4;
    assert.deepEqual(await ask(eng, { ...rls, "x-grpc-cancel": "close" }), { call: 0, token, cancel: [0, 1] });
    token += 4;

    // The service frozen: the call's own timeout ends it (the router's timeout, as 14).
    await svc.pause();
    try {
      r = await ask(eng, { ...rls, "x-grpc-timeout": "300" });
    } finally {
      await svc.resume();
    }
    assert.deepEqual(r, { call: 0, token, event: "close", status: 14, get_status: 0, code: 14, message: "upstream request timeout{response_timeout}" });
    token += 4;
    // The service stopped mid-run, then back.
    await svc.stopService();
    r = await ask(eng, rls);
    assert.deepEqual(r, { call: 0, token, event: "close", status: 14, get_status: 0, code: 14, message: REFUSED });
    token += 4;
    await svc.startService();
    r = await ask(eng, rls);
    assert.equal(r.token, token);
    assert.equal(r.event, "receive");

    // Callback sequence: only on_grpc_receive / on_grpc_close, never metadata callbacks for a unary call; the
    // unknown-cluster GrpcService's close carries Envoy's message.
    await new Promise((res) => setTimeout(res, 300));
    const cbs = eng.logs().filter((l) => l.startsWith("grpc cb "));
    assert.ok(cbs.includes("grpc cb close token=17 status=14 message=Cluster not available"), cbs.join("\n"));
    assert.equal(cbs.filter((l) => l.includes("metadata")).length, 0, cbs.join("\n"));
    for (const c of cancelled) assert.equal(cbs.filter((l) => l.includes(`token=${c} `)).length, 0, `no callback for cancelled ${c}:\n${cbs.join("\n")}`);
    assert.equal(cbs.length, 3 + 1 + closes.length + 2 + 1, cbs.join("\n"));
  });
}
