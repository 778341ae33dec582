// Table tests of the pure decision (decide.ts, bucket.ts, replies.ts formatting), beside the code; the
// tests on the compiled .wasm (test/plugins/rate-limit) stay. Run by `npm run test:assembly`.
import { ConfigReader } from "tollgate/assembly";
import { SlotSet } from "./bucket";
import { LimitRule, parseConfig, RateLimitConfig } from "./config";
import {
  applyGlobal, clientIp, GlobalCall, globalDescriptors, keyValue, Limiter, LimiterEvents, Outcome, RequestView, stripPort, unitSeconds,
} from "./decide";
import { CODE_OK, CODE_OVER_LIMIT, Descriptor, RlsResponse } from "./rls";
import { ietfPolicy, ietfState, resetSeconds } from "./replies";
import { BucketStore, STORE_OK } from "./store";

function config(json: string): RateLimitConfig {
  const r = ConfigReader.parse(json);
  const c = parseConfig(r);
  if (c === null) throw new Error("config rejected: " + r.error);
  return c!;
}

class View extends RequestView {
  constructor(public headers: Map<string, string>, public path: string | null, public cookieHeader: string | null,
    public peer: string | null, public xff: string | null) { super(); }
  header(name: ArrayBuffer): string | null {
    const k = String.UTF8.decode(name);
    return this.headers.has(k) ? this.headers.get(k) : null;
  }
  fullPath(): string | null { return this.path; }
  cookies(): string | null { return this.cookieHeader; }
  sourceAddress(): string | null { return this.peer; }
  forwardedFor(): string | null { return this.xff; }
}

function view(path: string | null, cookies: string | null, peer: string | null, xff: string | null, apiKey: string | null = null): View {
  const h = new Map<string, string>();
  if (apiKey !== null) h.set("x-api-key", apiKey!);
  return new View(h, path, cookies, peer, xff);
}

/** Bucket state in memory: one store per test, every write succeeds. */
class MemoryStore extends BucketStore {
  sets: Map<string, ArrayBuffer> = new Map<string, ArrayBuffer>();
  load(rule: LimitRule, set: u32, out: SlotSet): void {
    const n = <i32>rule.ways * 16;
    out.buf = new ArrayBuffer(n);
    out.ways = <i32>rule.ways;
    out.cas = 0;
    const k = rule.keyPrefix + set.toString();
    if (this.sets.has(k)) memory.copy(changetype<usize>(out.buf), changetype<usize>(this.sets.get(k)), <usize>n);
  }
  store(rule: LimitRule, set: u32, s: SlotSet): u32 {
    this.sets.set(rule.keyPrefix + set.toString(), s.buf.slice(0));
    return STORE_OK;
  }
  prepare(rule: LimitRule): void {}
}

class Counts extends LimiterEvents {
  allowedN: i32 = 0;
  rejectedN: i32 = 0;
  allowed(rule: LimitRule, evicted: bool): void { this.allowedN++; }
  rejected(rule: LimitRule, shadow: bool): void { this.rejectedN++; }
  storeError(rule: LimitRule): void {}
  casExhausted(rule: LimitRule, refund: bool): void {}
}

describe("stripPort / clientIp", () => {
  it("strips ports and brackets", () => {
    const cases: string[][] = [
      ["10.0.0.1:5000", "10.0.0.1"], ["10.0.0.1", "10.0.0.1"], ["[::1]:80", "::1"], ["::1", "::1"], [" 1.2.3.4 ", "1.2.3.4"],
    ];
    for (let i = 0; i < cases.length; i++) expect(stripPort(cases[i][0])).toBe(cases[i][1], cases[i][0]);
  });
  it("takes the hops-th XFF entry from the right, else the peer", () => {
    expect(clientIp("9.9.9.9:1", "1.1.1.1, 2.2.2.2", 0)).toBe("9.9.9.9");
    expect(clientIp("9.9.9.9:1", "1.1.1.1, 2.2.2.2", 1)).toBe("2.2.2.2");
    expect(clientIp("9.9.9.9:1", "1.1.1.1, 2.2.2.2", 2)).toBe("1.1.1.1");
    expect(clientIp("9.9.9.9:1", "1.1.1.1, 2.2.2.2", 3)).toBe("9.9.9.9"); // too few entries: untrusted
    expect(clientIp("9.9.9.9:1", "1.1.1.1, ", 1)).toBe("9.9.9.9"); // empty entry: untrusted
    expect(clientIp(null, null, 0)).toBeNull();
  });
});

describe("keyValue: one rule kind per row", () => {
  it("reads the key each kind names; an empty value does not apply", () => {
    const cfg = config('{"client_ip":{"xff_trusted_hops":1},"rules":[' +
      '{"name":"h","key":{"header":"x-api-key"},"limit":{"requests":5,"per":"second"}},' +
      '{"name":"q","key":{"query":"user"},"limit":{"requests":5,"per":"second"}},' +
      '{"name":"c","key":{"cookie":"sid"},"limit":{"requests":5,"per":"second"}},' +
      '{"name":"ip","key":{"client_ip":{}},"limit":{"requests":5,"per":"second"}},' +
      '{"name":"p","key":{"path":{}},"limit":{"requests":5,"per":"second"}},' +
      '{"name":"g","key":{"global":{}},"limit":{"requests":5,"per":"second"}}]}');
    const v = view("/a/b?user=bob&x=1", "a=1; sid=s-42", "10.0.0.9:1234", "203.0.113.7", "k-1");
    const want: Array<string | null> = ["k-1", "bob", "s-42", "203.0.113.7", "/a/b", ""];
    for (let i = 0; i < want.length; i++) expect(keyValue(cfg, cfg.rules[i], v)).toBe(want[i], cfg.rules[i].name);
    const empty = view("/?user=", "sid=", null, null, "");
    const none: Array<string | null> = [null, null, null, null, "/", ""];
    for (let i = 0; i < none.length; i++) expect(keyValue(cfg, cfg.rules[i], empty)).toBe(none[i], cfg.rules[i].name);
  });
});

describe("Limiter.check", () => {
  it("allows the limit, then rejects; the rejected request consumes nothing", () => {
    const cfg = config('{"rules":[' +
      '{"name":"wide","key":{"global":{}},"limit":{"requests":3,"per":"minute"}},' +
      '{"name":"narrow","key":{"header":"x-api-key"},"limit":{"requests":1,"per":"minute"}}]}');
    const events = new Counts();
    const limiter = new Limiter(new MemoryStore(), events, 16);
    const out = new Outcome();
    const t: u64 = 1_700_000_000_000;
    // [key, expected rejected rule index (-1 = allowed)]
    const rows: Array<Array<string>> = [["a", "-1"], ["a", "1"], ["a", "1"], ["b", "-1"], ["c", "-1"], ["d", "0"]];
    for (let i = 0; i < rows.length; i++) {
      const values = new Array<string | null>(2);
      values[0] = "";
      values[1] = rows[i][0];
      limiter.check(cfg, values, t + <u64>i, out);
      expect(out.rejected).toBe(I32.parseInt(rows[i][1]), "request " + i.toString());
    }
    // "a" rejected twice by narrow took nothing from wide: b and c still fit under wide's 3.
    expect(events.allowedN).toBe(2 * 3);
    expect(events.rejectedN).toBe(3);
  });
  it("refills a token bucket at requests/per", () => {
    const cfg = config('{"rules":[{"name":"g","key":{"global":{}},"limit":{"requests":2,"per":"second"}}]}');
    const limiter = new Limiter(new MemoryStore(), new Counts(), 16);
    const out = new Outcome();
    const values = new Array<string | null>(1);
    values[0] = "";
    const t: u64 = 1_700_000_000_000;
    // [ms offset, rejected]
    const rows: u64[][] = [[0, 0], [1, 0], [2, 1], [499, 1], [502, 0], [503, 1], [1600, 0], [1601, 0], [1602, 1]];
    for (let i = 0; i < rows.length; i++) {
      limiter.check(cfg, values, t + rows[i][0], out);
      expect(out.rejected >= 0).toBe(rows[i][1] == 1, "at +" + rows[i][0].toString() + " ms");
    }
  });
});

describe("reply formatting", () => {
  it("rounds reset up to whole seconds and formats the IETF items", () => {
    const ms: u64[] = [0, 1, 999, 1000, 1001, 59999];
    const s: u64[] = [0, 1, 1, 1, 2, 60];
    for (let i = 0; i < ms.length; i++) expect(resetSeconds(ms[i])).toBe(s[i]);
    expect(ietfPolicy("per-key", 100, 60)).toBe("\"per-key\";q=100;w=60");
    expect(ietfState("per-key", 9, 49001)).toBe("\"per-key\";r=9;t=50");
  });
});

const GLOBAL_CFG = config('{"rls":{"cluster":"rls","domain":"d"},"rules":[' +
  '{"name":"local","key":{"global":{}},"limit":{"requests":1,"per":"minute"}},' +
  '{"name":"fleet","scope":"global","key":{"global":{}},"limit":{"requests":100,"per":"hour"}},' +
  '{"name":"gold","scope":"global","key":{"header":"x-tier"},"values":["gold"],"limit":{"requests":5,"per":"week"}},' +
  '{"name":"per-key","scope":"global","key":{"header":"x-api-key"},"limit":{"requests":3,"per":"minute"}}]}');

function descriptors(): Descriptor[] {
  const out: Descriptor[] = [];
  for (let i = 0; i < 16; i++) {
    const d = new Descriptor();
    d.keys.push("");
    d.values.push("");
    out.push(d);
  }
  return out;
}

describe("global rules", () => {
  it("one descriptor per applicable global rule: {name, value}, _ for a global key, listed values only", () => {
    const ds = descriptors();
    const call = new GlobalCall();
    // [x-tier, x-api-key] → expected "name=value" list
    const rows: Array<Array<string>> = [
      ["gold", "k1", "fleet=_ gold=gold per-key=k1"],
      ["silver", "k1", "fleet=_ per-key=k1"],
      ["", "", "fleet=_"],
    ];
    for (let r = 0; r < rows.length; r++) {
      const values = new Array<string | null>(4);
      values[0] = "";
      values[1] = "";
      values[2] = rows[r][0].length > 0 ? rows[r][0] : null;
      values[3] = rows[r][1].length > 0 ? rows[r][1] : null;
      globalDescriptors(GLOBAL_CFG, values, call, ds);
      const got: string[] = [];
      for (let k = 0; k < call.count; k++) got.push(ds[k].keys[0] + "=" + ds[k].values[0]);
      expect(got.join(" ")).toBe(rows[r][2]);
    }
  });

  it("the local check skips global rules; commit false consumes nothing", () => {
    const events = new Counts();
    const limiter = new Limiter(new MemoryStore(), events, 16);
    const out = new Outcome();
    const values = new Array<string | null>(4);
    values[0] = "";
    values[1] = "";
    const t: u64 = 1_700_000_000_000;
    for (let i = 0; i < 3; i++) {
      limiter.check(GLOBAL_CFG, values, t, out, false);
      expect(out.rejected).toBe(-1, "peek " + i.toString());
      expect(out.report).toBe(0);
    }
    expect(events.allowedN).toBe(0);
    limiter.check(GLOBAL_CFG, values, t, out, true);
    expect(out.rejected).toBe(-1);
    expect(events.allowedN).toBe(1, "only the local rule");
    limiter.check(GLOBAL_CFG, values, t, out, false);
    expect(out.rejected).toBe(0);
  });

  it("OVER_LIMIT: the first descriptor marked over the limit rejects, with the service's numbers", () => {
    const call = new GlobalCall();
    call.count = 2;
    call.ruleOf[0] = 1;
    call.ruleOf[1] = 3;
    const resp = new RlsResponse();
    resp.overallCode = CODE_OVER_LIMIT;
    resp.statusCount = 2;
    resp.statuses[0].code = CODE_OK;
    resp.statuses[1].code = CODE_OVER_LIMIT;
    resp.statuses[1].hasLimit = true;
    resp.statuses[1].requestsPerUnit = 3;
    resp.statuses[1].unit = 2;
    resp.statuses[1].limitRemaining = 0;
    resp.statuses[1].resetMs = 12500;
    const out = new Outcome();
    expect(applyGlobal(GLOBAL_CFG, call, resp, out)).toBe(true);
    expect(out.rejected).toBe(3);
    expect(out.report).toBe(3);
    expect(out.limit).toBe(3);
    expect(out.remaining).toBe(0);
    expect(out.resetMs).toBe(<u64>12500);
    expect(out.policySeconds).toBe(<u64>60);
    // Without statuses: the first descriptor's rule, with its configured limit and period.
    resp.statusCount = 0;
    expect(applyGlobal(GLOBAL_CFG, call, resp, out)).toBe(true);
    expect(out.rejected).toBe(1);
    expect(out.limit).toBe(100);
    expect(out.policySeconds).toBe(<u64>3600);
  });

  it("OK (or anything but OVER_LIMIT): the tightest global rule is reported unless the local one is tighter", () => {
    const call = new GlobalCall();
    call.count = 2;
    call.ruleOf[0] = 1;
    call.ruleOf[1] = 3;
    const resp = new RlsResponse();
    resp.overallCode = 0;
    resp.statusCount = 2;
    resp.statuses[0].hasLimit = true;
    resp.statuses[0].requestsPerUnit = 100;
    resp.statuses[0].limitRemaining = 40;
    resp.statuses[1].hasLimit = true;
    resp.statuses[1].requestsPerUnit = 3;
    resp.statuses[1].limitRemaining = 2;
    const out = new Outcome();
    out.reset();
    expect(applyGlobal(GLOBAL_CFG, call, resp, out)).toBe(false);
    expect(out.report).toBe(3);
    expect(out.remaining).toBe(2);
    out.reset();
    out.report = 0;
    out.remaining = 1;
    applyGlobal(GLOBAL_CFG, call, resp, out);
    expect(out.report).toBe(0, "the local rule has less left");
  });

  it("maps the service's units to seconds", () => {
    const want: u64[] = [0, 1, 60, 3600, 86400, 2592000, 31536000, 604800, 0];
    for (let u = 0; u < want.length; u++) expect(unitSeconds(<u32>u)).toBe(want[u], u.toString());
  });
});
