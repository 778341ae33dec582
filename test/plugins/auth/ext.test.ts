// External authorization through the host's callout API (Envoy ext_authz HTTP semantics): the check
// request, allow with upstream headers, deny with the service's status/body/headers, 5xx, timeout,
// reset, fail-open, and ext_auth after consumer authentication.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CalloutRequest, CalloutResponse } from "../../../tools/host/index.ts";
import { BUILDS, req, tester } from "./support.ts";

const ext = { cluster: "authz", path_prefix: "/check", timeout_ms: 300, allowed_headers: ["x-user-token"], allowed_upstream_headers: ["x-user", "x-tenant"] };

/** A callout function that records the check requests and answers with `answer`. */
function service(answer: (r: CalloutRequest) => CalloutResponse) {
  const seen: CalloutRequest[] = [];
  return { seen, callouts: async (r: CalloutRequest) => (seen.push(r), answer(r)) };
}
const h = (r: CalloutRequest, name: string) => r.headers.find(([k]) => k === name)?.[1] ?? null;

for (const build of BUILDS) {
  describe(`auth ext_auth (${build})`, () => {
    test("200 allows: the check carries method, path_prefix + path, authorization and allowed headers only; allowed upstream headers are copied", async () => {
      const s = service(() => ({ headers: [[":status", "200"], ["x-user", "u-1"], ["x-other", "no"]] }));
      const t = await tester(build, { ext_auth: ext }, { callouts: s.callouts });
      const res = await t.exchange({ ...req([["authorization", "Bearer abc"], ["x-user-token", "t"], ["cookie", "c=1"], ["x-user", "spoofed"]], "/orders?id=7"), method: "POST" });
      assert.equal(res.status, 200);
      assert.equal(s.seen.length, 1);
      const check = s.seen[0];
      assert.equal(check.cluster, "authz");
      assert.equal(h(check, ":method"), "POST");
      assert.equal(h(check, ":path"), "/check/orders?id=7");
      assert.equal(h(check, ":authority"), "api.example.com");
      assert.equal(h(check, "authorization"), "Bearer abc");
      assert.equal(h(check, "x-user-token"), "t");
      assert.equal(h(check, "cookie"), null);
      assert.equal(check.timeoutMs, 300);
      assert.equal(res.upstreamRequest!.header("x-user"), "u-1");
      assert.equal(res.upstreamRequest!.header("x-other"), undefined);
    });

    test("any other status is relayed with the service's body and allowed client headers", async () => {
      for (const status of [401, 403, 302]) {
        const s = service(() => ({ headers: [[":status", String(status)], ["www-authenticate", 'Bearer realm="authz"'], ["location", "/login"], ["x-internal", "secret"]], body: "denied by policy" }));
        const t = await tester(build, { ext_auth: ext }, { callouts: s.callouts });
        const res = await t.exchange(req());
        assert.equal(res.status, status);
        assert.equal(res.body, "denied by policy");
        assert.equal(res.details, "auth.ext_denied");
        assert.equal(res.header("www-authenticate"), 'Bearer realm="authz"');
        assert.equal(res.header("location"), "/login");
        assert.equal(res.header("x-internal"), undefined);
        assert.equal(res.upstreamRequest, null);
      }
    });

    const failures: Array<[string, CalloutResponse]> = [
      ["500", { headers: [[":status", "500"]], body: "boom" }],
      ["503", { headers: [[":status", "503"]] }],
      ["timeout", { failure: "timeout" }],
      ["reset", { failure: "reset" }],
    ];
    for (const [name, answer] of failures) {
      test(`${name}: 403 by default; failure_mode_allow passes with x-envoy-auth-failure-mode-allowed`, async () => {
        const closed = await tester(build, { ext_auth: ext }, { callouts: service(() => answer).callouts });
        const a = await closed.exchange(req());
        assert.equal(a.status, 403);
        assert.equal(a.details, "auth.ext_error");
        assert.equal(a.upstreamRequest, null);
        const open = await tester(build, { ext_auth: { ...ext, failure_mode_allow: true } }, { callouts: service(() => answer).callouts });
        const b = await open.exchange(req([["x-envoy-auth-failure-mode-allowed", "false"]]));
        assert.equal(b.status, 200);
        assert.equal(b.upstreamRequest!.header("x-envoy-auth-failure-mode-allowed"), "true");
      });
    }

    test("allow_on_headers_stop_iteration: the body and trailers wait for the decision too; a denial never reaches the upstream", async () => {
      // With the option, Envoy turns the headers' Pause into StopIteration and goes on to the body and the
      // trailers: a trailers callback that continues (or is not exported) releases the paused headers with them.
      for (const [status, want] of [["403", 403], ["200", 200]] as const) {
        const s = service(() => ({ headers: [[":status", status]] }));
        const t = await tester(build, { ext_auth: ext }, { callouts: s.callouts, allowOnHeadersStopIteration: true });
        const res = await t.exchange({ ...req([["content-type", "application/json"]], "/orders"), method: "POST", body: '{"item":42}', trailers: [["x-checksum", "1"]] });
        assert.equal(res.status, want);
        if (want === 403) assert.equal(res.upstreamRequest, null, "the denied request must not reach the upstream");
        else assert.equal(res.upstreamRequest!.body, '{"item":42}');
      }
    });

    test("a request body waits for the decision and reaches the upstream intact after an allow", async () => {
      const s = service(() => ({ headers: [[":status", "200"]] }));
      const t = await tester(build, { ext_auth: ext }, { callouts: s.callouts });
      const res = await t.exchange({ ...req([["content-type", "application/json"]], "/orders"), method: "POST", body: '{"item":42}', trailers: [["x-checksum", "1"]] });
      assert.equal(res.status, 200);
      assert.equal(res.upstreamRequest!.body, '{"item":42}');
      assert.equal(s.seen[0].body.length, 0, "the check carries no body");
    });

    test("a client cannot claim the fail-open header on a normal allow", async () => {
      const t = await tester(build, { ext_auth: ext }, { callouts: service(() => ({ headers: [[":status", "200"]] })).callouts });
      const res = await t.exchange(req([["x-envoy-auth-failure-mode-allowed", "true"]]));
      assert.equal(res.upstreamRequest!.header("x-envoy-auth-failure-mode-allowed"), undefined);
    });

    test("with consumers, the callout happens only after a valid credential and can see the consumer header", async () => {
      const s = service(() => ({ headers: [[":status", "200"]] }));
      const t = await tester(build, {
        consumers: [{ name: "alice", keys: ["k-alice"] }], key_auth: {},
        ext_auth: { ...ext, allowed_headers: ["x-mse-consumer"] },
      }, { callouts: s.callouts });
      assert.equal((await t.exchange(req([["x-api-key", "bad"]]))).status, 401);
      assert.equal(s.seen.length, 0);
      const ok = await t.exchange(req([["x-api-key", "k-alice"]]));
      assert.equal(ok.status, 200);
      assert.equal(h(s.seen[0], "x-mse-consumer"), "alice");
    });
  });
}
