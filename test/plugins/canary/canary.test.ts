// The canary plugin on its compiled .wasm (release and debug) through the host: operators, all/any,
// rule order, cookie and query parsing, anti-spoofing, override header, weights (exact bucket ranges,
// distribution, sticky consistency, minimal movement when a weight rises), pin cookie, route-cache
// clearing, _rules_, config rejection, the shared canary-cases vectors, and no trap on hostile input.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { pluginDir } from "../../../tools/paths.ts";
import { CANARY_TAG, NEEDS_HTTP_LAYER, REJECTED, translate, vectorCases } from "./cases.ts";
import { bucketOf, drawBucket, tagForBucket, xorshift32 } from "./reference.ts";
import type { HeaderMap } from "../../../tools/host/header-map.ts";
import { BUILDS, canary, drawFor, rejection, send, tagOf } from "./support.ts";

const pluginJson = JSON.parse(readFileSync(join(pluginDir("canary"), "plugin.json"), "utf8"));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: true });
const validate = ajv.compile(pluginJson.schema);

/** One rule tagging "v2" over one condition; everything else gets "v1". */
function oneRule(cond: object, all = true): object {
  return { default_tag: "v1", rules: [{ match: { [all ? "all" : "any"]: [cond] }, tag: "v2" }] };
}

type Row = { name: string; cond: object; req: { path?: string; method?: string; headers?: Array<[string, string]> }; tag: string };

const OPERATORS: Row[] = [
  { name: "equal: same value", cond: { type: "header", key: "x-h", op: "equal", value: "a" }, req: { headers: [["x-h", "a"]] }, tag: "v2" },
  { name: "equal: values are case-sensitive", cond: { type: "header", key: "x-h", op: "equal", value: "a" }, req: { headers: [["x-h", "A"]] }, tag: "v1" },
  { name: "equal: missing header", cond: { type: "header", key: "x-h", op: "equal", value: "a" }, req: {}, tag: "v1" },
  { name: "equal: header name in config is case-insensitive", cond: { type: "header", key: "X-H", op: "equal", value: "a" }, req: { headers: [["x-h", "a"]] }, tag: "v2" },
  { name: "not_equal: other value", cond: { type: "header", key: "x-h", op: "not_equal", value: "a" }, req: { headers: [["x-h", "b"]] }, tag: "v2" },
  { name: "not_equal: same value", cond: { type: "header", key: "x-h", op: "not_equal", value: "a" }, req: { headers: [["x-h", "a"]] }, tag: "v1" },
  { name: "not_equal: missing header does not match", cond: { type: "header", key: "x-h", op: "not_equal", value: "a" }, req: {}, tag: "v1" },
  { name: "prefix: matches", cond: { type: "header", key: "x-h", op: "prefix", value: "ab" }, req: { headers: [["x-h", "abc"]] }, tag: "v2" },
  { name: "prefix: infix is not a prefix", cond: { type: "header", key: "x-h", op: "prefix", value: "ab" }, req: { headers: [["x-h", "xabc"]] }, tag: "v1" },
  { name: "suffix: matches", cond: { type: "header", key: "x-h", op: "suffix", value: "bc" }, req: { headers: [["x-h", "abc"]] }, tag: "v2" },
  { name: "suffix: no", cond: { type: "header", key: "x-h", op: "suffix", value: "bc" }, req: { headers: [["x-h", "bcx"]] }, tag: "v1" },
  { name: "contains: matches", cond: { type: "header", key: "user-agent", op: "contains", value: "Mobile" }, req: { headers: [["user-agent", "Foo Mobile/1"]] }, tag: "v2" },
  { name: "contains: no", cond: { type: "header", key: "user-agent", op: "contains", value: "Mobile" }, req: { headers: [["user-agent", "Foo mobile/1"]] }, tag: "v1" },
  { name: "in: listed", cond: { type: "header", key: "x-h", op: "in", value: ["a", "b"] }, req: { headers: [["x-h", "b"]] }, tag: "v2" },
  { name: "in: not listed", cond: { type: "header", key: "x-h", op: "in", value: ["a", "b"] }, req: { headers: [["x-h", "c"]] }, tag: "v1" },
  { name: "not_in: not listed", cond: { type: "header", key: "x-h", op: "not_in", value: ["a", "b"] }, req: { headers: [["x-h", "c"]] }, tag: "v2" },
  { name: "not_in: listed", cond: { type: "header", key: "x-h", op: "not_in", value: ["a", "b"] }, req: { headers: [["x-h", "a"]] }, tag: "v1" },
  { name: "not_in: missing header does not match", cond: { type: "header", key: "x-h", op: "not_in", value: ["a"] }, req: {}, tag: "v1" },
  { name: "present: empty value counts", cond: { type: "header", key: "x-h", op: "present" }, req: { headers: [["x-h", ""]] }, tag: "v2" },
  { name: "present: missing", cond: { type: "header", key: "x-h", op: "present" }, req: {}, tag: "v1" },
  { name: "absent: missing", cond: { type: "header", key: "x-h", op: "absent" }, req: {}, tag: "v2" },
  { name: "absent: present", cond: { type: "header", key: "x-h", op: "absent" }, req: { headers: [["x-h", ""]] }, tag: "v1" },
  { name: "path prefix ignores the query", cond: { type: "path", op: "prefix", value: "/api/" }, req: { path: "/api/x?y=1" }, tag: "v2" },
  { name: "path equal ignores the query", cond: { type: "path", op: "equal", value: "/a" }, req: { path: "/a?b=/c" }, tag: "v2" },
  { name: "path suffix sees the path only", cond: { type: "path", op: "suffix", value: ".json" }, req: { path: "/a?f=x.json" }, tag: "v1" },
  { name: "method in", cond: { type: "method", op: "in", value: ["POST", "PUT"] }, req: { method: "PUT" }, tag: "v2" },
  { name: "method not in", cond: { type: "method", op: "in", value: ["POST", "PUT"] }, req: { method: "GET" }, tag: "v1" },
  { name: "method equal", cond: { type: "method", op: "equal", value: "DELETE" }, req: { method: "DELETE" }, tag: "v2" },
];

const COOKIES: Array<{ name: string; cookie: string | null; tag: string }> = [
  { name: "a single cookie", cookie: "user=alice", tag: "v2" },
  { name: "spaces after ';'", cookie: "a=1;   user=alice ;b=2", tag: "v2" },
  { name: "no space after ';'", cookie: "a=1;user=alice", tag: "v2" },
  { name: "a name that prefixes another does not match", cookie: "username=alice", tag: "v1" },
  { name: "a longer name before the real one", cookie: "username=bob; user=alice", tag: "v2" },
  { name: "a name that ends like it does not match", cookie: "xuser=alice", tag: "v1" },
  { name: "duplicates: the first wins (match)", cookie: "user=alice; user=bob", tag: "v2" },
  { name: "duplicates: the first wins (no match)", cookie: "user=bob; user=alice", tag: "v1" },
  { name: "a quoted value is unquoted", cookie: "user=\"alice\"", tag: "v2" },
  { name: "a pair without '=' is skipped", cookie: "user; user=alice", tag: "v2" },
  { name: "the value is not percent-decoded", cookie: "user=alic%65", tag: "v1" },
  { name: "an empty Cookie header", cookie: "", tag: "v1" },
  { name: "no Cookie header", cookie: null, tag: "v1" },
  { name: "only separators", cookie: ";;; ;", tag: "v1" },
];

const QUERIES: Array<{ name: string; cond: object; path: string; tag: string }> = [
  { name: "a plain parameter", cond: { type: "query", key: "u", op: "equal", value: "1" }, path: "/p?u=1", tag: "v2" },
  { name: "repeated: the first wins", cond: { type: "query", key: "u", op: "equal", value: "1" }, path: "/p?u=1&u=2", tag: "v2" },
  { name: "repeated: a later value does not count", cond: { type: "query", key: "u", op: "equal", value: "2" }, path: "/p?u=1&u=2", tag: "v1" },
  { name: "percent-decoded", cond: { type: "query", key: "name", op: "equal", value: "a b/c" }, path: "/p?name=a%20b%2Fc", tag: "v2" },
  { name: "'+' is a space", cond: { type: "query", key: "name", op: "equal", value: "a b" }, path: "/p?name=a+b", tag: "v2" },
  { name: "no '?' at all", cond: { type: "query", key: "u", op: "absent" }, path: "/p", tag: "v2" },
  { name: "a name that prefixes another", cond: { type: "query", key: "u", op: "present" }, path: "/p?uu=1&xu=2", tag: "v1" },
  { name: "a bare flag is present with an empty value", cond: { type: "query", key: "beta", op: "equal", value: "" }, path: "/p?x=1&beta", tag: "v2" },
  { name: "the fragment is not part of the query", cond: { type: "query", key: "u", op: "equal", value: "1" }, path: "/p?u=1#frag", tag: "v2" },
  { name: "malformed escapes stay as written", cond: { type: "query", key: "u", op: "equal", value: "%zz" }, path: "/p?u=%zz", tag: "v2" },
];

const SPLIT_30 = { default_tag: "v1", weights: [{ tag: "v2", weight: 30 }] };

describe("canary plugin.json", () => {
  test("every example validates against the schema", () => {
    for (const ex of pluginJson.examples) assert.ok(validate(ex.config), `${ex.title}: ${ajv.errorsText(validate.errors)}`);
  });
  test("the schema rejects what the plugin rejects (where JSON Schema can say it)", () => {
    for (const r of REJECTED.filter((r) => r.schemaCatches)) assert.equal(validate(r.config), false, r.name);
  });
});

for (const build of BUILDS) {
  describe(`canary (${build})`, () => {
    test("plugin.json examples configure", async () => {
      for (const ex of pluginJson.examples) await canary(build, ex.config);
    });

    test("config errors are rejected at configure, naming the field", async () => {
      for (const r of REJECTED) {
        const log = await rejection(build, r.config as object);
        assert.ok(log.includes(r.message), `${r.name}: expected "${r.message}" in:\n${log}`);
      }
      assert.match(await rejection(build, "{not json"), /not valid JSON/);
    });

    test("every operator", async () => {
      for (const row of OPERATORS) {
        const c = await canary(build, oneRule(row.cond));
        assert.equal(await tagOf(c, row.req), row.tag, row.name);
      }
    });

    test("percentage: the documented bucket below N×100, for header, cookie and query", async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
      for (const [type, make] of [
        ["header", (v: string) => ({ headers: [["x-user", v]] as Array<[string, string]> })],
        ["cookie", (v: string) => ({ headers: [["cookie", `x-user=${v}`]] as Array<[string, string]> })],
        ["query", (v: string) => ({ path: `/?x-user=${v}` })],
      ] as const) {
        const c = await canary(build, oneRule({ type, key: "x-user", op: "percentage", value: 37 }));
        for (const id of ids) assert.equal(await tagOf(c, make(id)), bucketOf(id) < 3700 ? "v2" : "v1", `${type} ${id}`);
      }
      const none = await canary(build, oneRule({ type: "header", key: "x-user", op: "percentage", value: 0 }));
      const all = await canary(build, oneRule({ type: "header", key: "x-user", op: "percentage", value: 100 }));
      for (const id of ids.slice(0, 50)) {
        assert.equal(await tagOf(none, { headers: [["x-user", id]] }), "v1");
        assert.equal(await tagOf(all, { headers: [["x-user", id]] }), "v2");
      }
      assert.equal(await tagOf(all, {}), "v1", "a missing key never matches a percentage");
    });

    test("all needs every condition, any needs one", async () => {
      const conds = [
        { type: "header", key: "x-a", op: "equal", value: "1" },
        { type: "cookie", key: "c", op: "equal", value: "2" },
      ];
      const all = await canary(build, { default_tag: "v1", rules: [{ match: { all: conds }, tag: "v2" }] });
      const any = await canary(build, { default_tag: "v1", rules: [{ match: { any: conds }, tag: "v2" }] });
      const both: Array<[string, string]> = [["x-a", "1"], ["cookie", "c=2"]];
      const first: Array<[string, string]> = [["x-a", "1"]];
      const second: Array<[string, string]> = [["cookie", "c=2"]];
      assert.equal(await tagOf(all, { headers: both }), "v2");
      assert.equal(await tagOf(all, { headers: first }), "v1");
      assert.equal(await tagOf(all, { headers: second }), "v1");
      assert.equal(await tagOf(any, { headers: first }), "v2");
      assert.equal(await tagOf(any, { headers: second }), "v2");
      assert.equal(await tagOf(any, {}), "v1");
    });

    test("rules: the first match wins, in list order", async () => {
      const c = await canary(build, {
        default_tag: "v1",
        rules: [
          { match: { all: [{ type: "header", key: "x-h", op: "present" }] }, tag: "first" },
          { match: { all: [{ type: "header", key: "x-h", op: "equal", value: "x" }] }, tag: "second" },
          { match: { all: [{ type: "path", op: "prefix", value: "/" }] }, tag: "third" },
        ],
      });
      assert.equal(await tagOf(c, { headers: [["x-h", "x"]] }), "first");
      assert.equal(await tagOf(c, {}), "third");
      const none = await canary(build, { default_tag: "v1", rules: [{ match: { all: [{ type: "header", key: "x-h", op: "present" }] }, tag: "" }] });
      assert.equal(await tagOf(none, { headers: [["x-h", "1"]] }), null, "an empty rule tag writes no header");
    });

    test("cookie parsing edge cases", async () => {
      const c = await canary(build, oneRule({ type: "cookie", key: "user", op: "equal", value: "alice" }));
      for (const row of COOKIES) {
        const headers: Array<[string, string]> = row.cookie === null ? [] : [["cookie", row.cookie]];
        assert.equal(await tagOf(c, { headers }), row.tag, row.name);
      }
    });

    test("query parsing", async () => {
      for (const row of QUERIES) {
        const c = await canary(build, oneRule(row.cond));
        assert.equal(await tagOf(c, { path: row.path }), row.tag, row.name);
      }
    });

    test("a client-sent tag is removed (anti-spoofing), every copy of it", async () => {
      const withDefault = await canary(build, { default_tag: "v1" });
      assert.deepEqual((await send(withDefault, { headers: [["x-canary-version", "v2"]] })).tags, ["v1"]);
      assert.deepEqual((await send(withDefault, { headers: [["x-canary-version", "v2"], ["x-canary-version", "v3"]] })).tags, ["v1"]);
      const noDefault = await canary(build, {});
      assert.deepEqual((await send(noDefault, { headers: [["x-canary-version", "v2"]] })).tags, []);
      const custom = await canary(build, { tag_header: "X-Version", default_tag: "v1" });
      const o = await custom.t.exchange({ headers: [["x-version", "v9"]] });
      assert.equal(o.upstreamRequest?.header("x-version"), "v1", "tag_header is lower-cased");
    });

    test("trust_client_tag keeps the client's tag and skips the decision", async () => {
      const c = await canary(build, { trust_client_tag: true, default_tag: "v1", override_header: "x-canary", canary_tag: "v2" });
      assert.equal(await tagOf(c, { headers: [["x-canary-version", "v7"], ["x-canary", "always"]] }), "v7");
      assert.equal(await tagOf(c, { headers: [["x-canary", "always"]] }), "v2");
      assert.equal(await tagOf(c, {}), "v1");
    });

    test("override header: always / never / anything else falls through", async () => {
      const c = await canary(build, {
        override_header: "x-canary", canary_tag: "v2", stable_tag: "v1", default_tag: "v0",
        rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "present" }] }, tag: "beta" }],
        weights: [{ tag: "v2", weight: 100 }],
      });
      assert.equal(await tagOf(c, { headers: [["x-canary", "always"]] }), "v2");
      assert.equal(await tagOf(c, { headers: [["x-canary", "never"]] }), "v1", "never beats a 100% weight");
      assert.equal(await tagOf(c, { headers: [["x-canary", "never"], ["x-beta", "1"]] }), "v1", "the override comes before rules");
      assert.equal(await tagOf(c, { headers: [["x-canary", "ALWAYS"], ["x-beta", "1"]] }), "beta", "other values are ignored");
      assert.equal(await tagOf(c, { headers: [["x-canary", ""]] }), "v2", "empty falls through to the weights");
      const stableDefault = await canary(build, { override_header: "x-canary", canary_tag: "v2", default_tag: "v1" });
      assert.equal(await tagOf(stableDefault, { headers: [["x-canary", "never"]] }), "v1", "stable_tag defaults to default_tag");
    });

    test("default tag only when nothing else applied; empty = no header", async () => {
      const c = await canary(build, { default_tag: "v1", rules: [{ match: { all: [{ type: "header", key: "x-h", op: "present" }] }, tag: "v2" }] });
      assert.equal(await tagOf(c, {}), "v1");
      assert.equal(await tagOf(c, { headers: [["x-h", "1"]] }), "v2");
      assert.equal(await tagOf(await canary(build, {}), {}), null);
    });

    test("weights: exact bucket ranges in list order, the rest to default_tag", async () => {
      const weights = [{ tag: "a", weight: 30 }, { tag: "b", weight: 20 }];
      const c = await canary(build, { default_tag: "c", weights });
      for (const [bucket, tag] of [[0, "a"], [2999, "a"], [3000, "b"], [4999, "b"], [5000, "c"], [9999, "c"]] as const) {
        const u32 = drawFor(bucket);
        assert.equal(drawBucket(u32), bucket);
        c.draws.push(u32);
        assert.equal(await tagOf(c, {}), tag, `bucket ${bucket}`);
      }
      c.draws.push(0xffffffff);
      assert.equal(await tagOf(c, {}), "c", "the largest draw");
      const full = await canary(build, { weights: [{ tag: "v2", weight: 100 }] });
      const zero = await canary(build, { default_tag: "v1", weights: [{ tag: "v2", weight: 0 }] });
      for (const u32 of [0, 1, 0x7fffffff, 0xffffffff]) {
        full.draws.push(u32);
        zero.draws.push(u32);
        assert.equal(await tagOf(full, {}), "v2");
        assert.equal(await tagOf(zero, {}), "v1");
      }
    });

    test("the random draw happens only when weights decide", async () => {
      const c = await canary(build, {
        ...SPLIT_30,
        override_header: "x-canary", canary_tag: "v2",
        rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "present" }] }, tag: "v2" }],
        sticky_by: { header: "x-user-id" },
      });
      await tagOf(c, { headers: [["x-canary", "always"]] });
      await tagOf(c, { headers: [["x-beta", "1"]] });
      await tagOf(c, { headers: [["x-user-id", "u1"]] });
      assert.equal(c.drawCount, 0);
      await tagOf(c, {});
      await tagOf(c, { headers: [["x-user-id", ""]] });
      assert.equal(c.drawCount, 2, "no sticky value (or an empty one) → one draw each");
    });

    test("distribution: 10,000 random draws at 30/70 land within ±2 points", async () => {
      const c = await canary(build, SPLIT_30);
      c.fallback = xorshift32(0xc0ffee);
      let canaryCount = 0;
      const n = 10_000;
      for (let i = 0; i < n; i++) if ((await tagOf(c, {})) === "v2") canaryCount++;
      const share = (canaryCount / n) * 100;
      assert.ok(Math.abs(share - 30) <= 2, `v2 share ${share.toFixed(2)}%`);
      assert.ok(Math.abs(100 - share - 70) <= 2);
      assert.equal(c.drawCount, n);
    });

    test("sticky: 10,000 user ids split within ±2 points, the documented hash, the same tag on every repeat", async () => {
      const c = await canary(build, { ...SPLIT_30, sticky_by: { header: "x-user-id" } }, { workers: 2 });
      const n = 10_000;
      const first = new Map<string, string | null>();
      let canaryCount = 0;
      for (let i = 0; i < n; i++) {
        const id = `user-${i}`;
        const tag = await tagOf(c, { headers: [["x-user-id", id]], worker: 0 });
        first.set(id, tag);
        if (tag === "v2") canaryCount++;
        assert.equal(tag, tagForBucket(SPLIT_30.weights, "v1", bucketOf(id)), id);
      }
      const share = (canaryCount / n) * 100;
      assert.ok(Math.abs(share - 30) <= 2, `v2 share ${share.toFixed(2)}%`);
      for (let i = 0; i < n; i++) {
        const id = `user-${i}`;
        assert.equal(await tagOf(c, { headers: [["x-user-id", id]], worker: 1 }), first.get(id), `repeat of ${id} on another VM`);
      }
      assert.equal(c.drawCount, 0, "sticky decisions never draw");
    });

    test("sticky by cookie and by query use the same hash", async () => {
      const byCookie = await canary(build, { ...SPLIT_30, sticky_by: { cookie: "uid" } });
      const byQuery = await canary(build, { ...SPLIT_30, sticky_by: { query: "u" } });
      for (let i = 0; i < 300; i++) {
        const id = `c${i}-ü`;
        const want = bucketOf(id) < 3000 ? "v2" : "v1";
        // Header values are bytes (the host, like Node, carries them as latin1): send the id's UTF-8 bytes.
        const cookie = Buffer.from(`theme=dark; uid=${id}`, "utf8").toString("latin1");
        assert.equal(await tagOf(byCookie, { headers: [["cookie", cookie]] }), want, id);
        assert.equal(await tagOf(byQuery, { path: `/x?a=1&u=${encodeURIComponent(id)}` }), want, id);
      }
      assert.equal(byCookie.drawCount + byQuery.drawCount, 0);
    });

    test("raising the canary weight 10 → 20 moves only stable ids to canary (about 10%)", async () => {
      const ten = await canary(build, { default_tag: "stable", weights: [{ tag: "canary", weight: 10 }], sticky_by: { header: "x-user-id" } });
      const twenty = await canary(build, { default_tag: "stable", weights: [{ tag: "canary", weight: 20 }], sticky_by: { header: "x-user-id" } });
      const n = 10_000;
      let moved = 0;
      for (let i = 0; i < n; i++) {
        const headers: Array<[string, string]> = [["x-user-id", `member-${i}`]];
        const before = await tagOf(ten, { headers });
        const after = await tagOf(twenty, { headers });
        if (before === "canary") assert.equal(after, "canary", `member-${i} left the canary`);
        if (before !== after) moved++;
      }
      assert.ok(Math.abs((moved / n) * 100 - 10) <= 2, `${moved} of ${n} moved`);
    });

    test("pin cookie: a draw is pinned with Set-Cookie and honoured later; unknown pins are ignored", async () => {
      const c = await canary(build, { ...SPLIT_30, pin_cookie: "canary_pin", pin_cookie_max_age: 600 });
      c.draws.push(drawFor(10));
      const drawn = await send(c, {});
      assert.equal(drawn.tag, "v2");
      assert.deepEqual(drawn.setCookie, ["canary_pin=v2; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"]);

      for (const pin of ["v2", "v1"]) {
        const again = await send(c, { headers: [["cookie", `a=b; canary_pin=${pin}`]] });
        assert.equal(again.tag, pin);
        assert.deepEqual(again.setCookie, [], "an honoured pin is not re-issued");
      }
      assert.equal(c.drawCount, 1);

      for (const bad of ["v3", "V2", "v2x", "", "v2%0d%0aSet-Cookie:%20x=1"]) {
        c.draws.push(drawFor(9000));
        const o = await send(c, { headers: [["cookie", `canary_pin=${bad}`]] });
        assert.equal(o.tag, "v1", `pin ${JSON.stringify(bad)} must not decide`);
        assert.deepEqual(o.setCookie, ["canary_pin=v1; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"]);
      }

      const secure = await canary(build, { ...SPLIT_30, pin_cookie: "p", pin_cookie_secure: true });
      secure.draws.push(drawFor(5000));
      assert.deepEqual((await send(secure, {})).setCookie, ["p=v1; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Secure"]);
    });

    test("pin cookie: a rolled-back tag (weight 0) is no longer honoured", async () => {
      const c = await canary(build, { default_tag: "v1", weights: [{ tag: "v2", weight: 0 }], pin_cookie: "canary_pin" });
      c.draws.push(drawFor(0));
      const o = await send(c, { headers: [["cookie", "canary_pin=v2"]] });
      assert.equal(o.tag, "v1");
      assert.deepEqual(o.setCookie, ["canary_pin=v1; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax"]);
    });

    test("pin cookie: sticky ids and rules never set a cookie", async () => {
      const c = await canary(build, {
        ...SPLIT_30, pin_cookie: "canary_pin", sticky_by: { header: "x-user-id" },
        rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "present" }] }, tag: "v2" }],
      });
      assert.deepEqual((await send(c, { headers: [["x-user-id", "u1"]] })).setCookie, []);
      assert.deepEqual((await send(c, { headers: [["x-beta", "1"]] })).setCookie, []);
      assert.equal((await send(c, {})).setCookie.length, 1);
    });

    test("the tag write alone clears the route cache (ABI 0.2.1): no clear_route_cache call", async () => {
      const c = await canary(build, SPLIT_30);
      for (let i = 0; i < 5; i++) await tagOf(c, {});
      // Every Envoy clears the route cache on a request-header change by an ABI 0.2.1 module, so the
      // foreign function would be a second, redundant host call per request on the hot path.
      assert.equal(c.clearRouteCacheCalls, 0);
      const builtin = await canary(build, { default_tag: "v1" }, { clearRouteCache: false });
      const s = builtin.t.stream(0);
      s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "a"], [":scheme", "http"], ["x-canary-version", "v2"]]);
      assert.equal(s.request?.get("x-canary-version"), "v1");
      assert.equal(s.routeCacheClears, 1);
      s.complete();
      assert.deepEqual(builtin.t.logsAt("critical"), []);
    });

    test("the tag re-routes: the route is re-selected after the plugin writes the header", async () => {
      const route = (h: HeaderMap) => h.get("x-canary-version") === "v2" ? { name: "to-canary", cluster: "canary" } : { name: "default", cluster: "stable" };
      const c = await canary(build, { default_tag: "v1", override_header: "x-canary", canary_tag: "v2" }, { route, clearRouteCache: false });
      for (const [override, cluster] of [["always", "canary"], ["never", "stable"]]) {
        const res = await c.t.exchange({
          headers: [["x-canary", override], ["x-canary-version", override === "always" ? "v1" : "v2"]],
          upstream: (req) => ({ status: 200, body: String(req.route?.cluster) }),
        });
        assert.equal(res.body, cluster, `x-canary: ${override}`);
      }
    });

    test("_rules_: a route's own config, else the global one; on uncovered routes only the tag header is stripped", async () => {
      const c = await canary(build, {
        default_tag: "v1",
        _rules_: [{ _match_route_: ["checkout"], default_tag: "v2" }, { _match_domain_: ["*.beta.example.com"], default_tag: "beta" }],
      });
      assert.equal(await tagOf(c, { properties: { route_name: "checkout" } }), "v2");
      assert.equal(await tagOf(c, { properties: { route_name: "home" } }), "v1");
      const byDomain = await c.t.exchange({ authority: "shop.beta.example.com:8080" });
      assert.equal(byDomain.upstreamRequest?.header("x-canary-version"), "beta");
      const only = await canary(build, { _rules_: [{ _match_route_: ["checkout"], default_tag: "v2" }] });
      assert.equal(await tagOf(only, { properties: { route_name: "checkout" } }), "v2");
      // The mesh routes on the tag header everywhere, so a client-sent tag is removed even where no config applies.
      assert.equal(await tagOf(only, { properties: { route_name: "home" }, headers: [["x-canary-version", "mine"], ["x-canary-version", "v2"]] }), null,
        "a client-sent tag never reaches the upstream, even on routes no rule covers");
      const home = await only.t.exchange({ properties: { route_name: "home" }, headers: [["x-other", "kept"]] });
      assert.equal(home.upstreamRequest?.header("x-other"), "kept", "nothing else is touched on uncovered routes");
      const trusting = await canary(build, { _rules_: [{ _match_route_: ["checkout"], default_tag: "v2", trust_client_tag: true }] });
      assert.equal(await tagOf(trusting, { properties: { route_name: "home" }, headers: [["x-canary-version", "mine"]] }), "mine",
        "a config that trusts client tags leaves them alone");
    });

    test("canary-cases.json vectors (ingress-nginx canary semantics)", async () => {
      const cases = vectorCases();
      assert.ok(cases.length >= 20);
      let ran = 0;
      for (const v of cases) {
        if (NEEDS_HTTP_LAYER.has(v.id)) continue; // test/scenarios/canary.yaml sends it over real HTTP
        assert.ok(v.expectTag, `${v.id}: no expectation decided`);
        const c = await canary(build, translate(v.config));
        c.fallback = xorshift32(7);
        const headers: Array<[string, string]> = [];
        for (const [k, val] of Object.entries(v.request.headers)) {
          for (const one of Array.isArray(val) ? val : [val]) headers.push([k, one]);
        }
        assert.equal(await tagOf(c, { method: v.request.method, path: v.request.path, headers }), v.expectTag, `${v.id}: ${v.expect_backend}`);
        ran++;
      }
      assert.equal(ran, cases.length - NEEDS_HTTP_LAYER.size);
      assert.equal(CANARY_TAG, "canary");
    });

    test("never traps on hostile request input", async () => {
      const c = await canary(build, {
        override_header: "x-canary", canary_tag: "v2", default_tag: "v1", pin_cookie: "canary_pin",
        sticky_by: { cookie: "uid" }, weights: [{ tag: "v2", weight: 50 }],
        rules: [
          { match: { any: [
            { type: "cookie", key: "team", op: "in", value: ["qa"] },
            { type: "query", key: "q", op: "percentage", value: 50 },
            { type: "path", op: "contains", value: "%" },
            { type: "header", key: "x-h", op: "suffix", value: "\u00e9" },
          ] }, tag: "v3" },
        ],
      });
      const text = fc.string({ unit: "binary", maxLength: 60 });
      const headerValue = text.map((s) => s.replace(/[\0\r\n]/g, ""));
      await fc.assert(
        fc.asyncProperty(headerValue, headerValue, text, headerValue, async (cookie, h, rawPath, override) => {
          const path = "/" + encodeURI(rawPath).replace(/#/g, "%23") + "?q=" + rawPath.replace(/[^\x21-\x7e]/g, "%") + "&%=%%";
          const o = await send(c, { path, headers: [["cookie", cookie], ["x-h", h], ["x-canary", override]] });
          assert.equal(o.status, 200);
          assert.ok(o.tags.length === 1 && /^v[123]$/.test(o.tags[0]), `tags ${JSON.stringify(o.tags)}`);
        }),
        { numRuns: 300, seed: 42 },
      );
      assert.deepEqual(c.t.logsAt("critical"), []);
    });
  });
}
