// Table tests of the pure decision (decide.ts over origin.ts / policy.ts), beside the code; the tests on
// the compiled .wasm (test/plugins/cors, test/browser) stay. Run by `npm run test:assembly`.
import { parseConfig } from "./config";
import { Verdict } from "./constants";
import { classify, decideCross, Decision, OriginMemo, RequestView } from "./decide";
import { CorsPolicy } from "./policy";

class View extends RequestView {
  constructor(public o: string | null, public m: string | null, public a: string | null, public s: string | null,
    public acrm: string | null, public acrh: string | null) { super(); }
  origin(): string | null { return this.o; }
  method(): string | null { return this.m; }
  authority(): string | null { return this.a; }
  scheme(): string | null { return this.s; }
  accessControlRequestMethod(): string | null { return this.acrm; }
  accessControlRequestHeaders(): string | null { return this.acrh; }
  accessControlRequestPrivateNetwork(): string | null { return null; }
}

function policy(json: string): CorsPolicy {
  const set = parseConfig(json);
  if (set === null || set.global === null) throw new Error("config rejected: " + json);
  return set!.global!;
}

/** The verdict for one request under `p` (NONE when not cross-origin). */
function verdict(p: CorsPolicy, v: View): u8 {
  const memo = new OriginMemo();
  const d = new Decision();
  if (!classify(v, memo, d)) return Verdict.NONE;
  return decideCross(p, v, memo, d).verdict;
}

describe("classify + decideCross", () => {
  it("one row per case", () => {
    const p = policy('{"allow_origins":["https://app.example.com"],"allow_origin_patterns":["https://*.example.org"],' +
      '"allow_methods":["GET","PUT"],"allow_headers":["x-token"]}');
    const api = "api.example.com";
    // [origin, method, authority, scheme, acrm, acrh, expected verdict]
    const rows: Array<Array<string | null>> = [
      [null, "GET", api, "https", null, null, "0"],                                      // no Origin
      ["  ", "GET", api, "https", null, null, "0"],                                      // blank Origin
      ["https://api.example.com", "GET", api, "https", null, null, "0"],                 // same origin
      ["https://API.example.com:443", "GET", api, "https", null, null, "0"],             // same origin, case and default port
      ["http://api.example.com", "GET", api, "https", null, null, "2"],                  // other scheme: cross-origin, refused
      ["https://app.example.com", "GET", api, "https", null, null, "1"],                 // listed
      ["https://a.b.example.org", "GET", api, "https", null, null, "1"],                 // pattern
      ["https://example.org", "GET", api, "https", null, null, "2"],                     // pattern needs a label
      ["https://evil.com", "GET", api, "https", null, null, "2"],                        // not listed
      ["https://app.example.com", "OPTIONS", api, "https", "PUT", "x-token", "3"],       // preflight
      ["https://app.example.com", "OPTIONS", api, "https", "", null, "1"],               // OPTIONS without ACRM: actual request
      ["https://app.example.com", "POST", api, "https", "PUT", null, "1"],               // ACRM on a non-OPTIONS request
    ];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const v = new View(r[0], r[1], r[2], r[3], r[4], r[5]);
      expect(verdict(p, v)).toBe(<u8>I32.parseInt(r[6]!), "row " + i.toString());
    }
  });

  it("preflights are allowed only with an allowed origin, method and every requested header", () => {
    const p = policy('{"allow_origins":["https://app.example.com"],"allow_methods":["GET","PUT"],"allow_headers":["x-token"]}');
    // [origin, acrm, acrh, allowed]
    const rows: Array<Array<string | null>> = [
      ["https://app.example.com", "PUT", "x-token", "1"],
      ["https://app.example.com", "put", "X-Token", "1"],
      ["https://app.example.com", "DELETE", null, "0"],
      ["https://app.example.com", "GET", "x-token, x-other", "0"],
      ["https://evil.com", "GET", null, "0"],
    ];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const memo = new OriginMemo();
      const d = new Decision();
      const v = new View(r[0], "OPTIONS", "api.example.com", "https", r[1], r[2]);
      expect(classify(v, memo, d)).toBe(true);
      decideCross(p, v, memo, d);
      expect(d.verdict).toBe(Verdict.ANSWERED, "row " + i.toString());
      expect(d.preflightAllowed).toBe(r[3] == "1", "row " + i.toString());
    }
  });

  it("the memo never carries one origin's verdict to another", () => {
    const p = policy('{"allow_origins":["https://app.example.com"]}');
    const memo = new OriginMemo();
    const d = new Decision();
    const origins: string[] = ["https://app.example.com", "https://evil.com", "https://app.example.com", "https://evil.com"];
    const want: u8[] = [Verdict.ALLOWED, Verdict.REFUSED, Verdict.ALLOWED, Verdict.REFUSED];
    for (let i = 0; i < origins.length; i++) {
      const v = new View(origins[i], "GET", "api.example.com", "https", null, null);
      expect(classify(v, memo, d.reset())).toBe(true);
      expect(decideCross(p, v, memo, d).verdict).toBe(want[i], origins[i]);
    }
  });
});
