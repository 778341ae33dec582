// Table tests of the pure decision (decide.ts), beside the code; the tests on the compiled .wasm
// (test/plugins/canary, with its reference model) stay. Run by `npm run test:assembly`.
import { ConfigReader } from "tollgate/assembly";
import { CanaryConfig, parseCanaryConfig } from "./config";
import { Source } from "./constants";
import { decide, Decision, RequestView, tagForDraw, tagForSticky } from "./decide";

function config(json: string): CanaryConfig {
  const r = ConfigReader.parse(json);
  const c = parseCanaryConfig(r);
  if (c === null) throw new Error("config rejected: " + r.error);
  return c!;
}

class View extends RequestView {
  constructor(public headers: Map<string, string>, public cookies: Map<string, string>, public p: string, public m: string) { super(); }
  header(name: ArrayBuffer): string | null {
    const k = String.UTF8.decode(name);
    return this.headers.has(k) ? this.headers.get(k) : null;
  }
  cookie(name: string): string | null { return this.cookies.has(name) ? this.cookies.get(name) : null; }
  query(name: string): string | null { return null; }
  path(): string { return this.p; }
  method(): string { return this.m; }
}

/** A request from "k=v" header pairs and a cookie list. */
function req(headers: string[], cookies: string[], path: string = "/", method: string = "GET"): View {
  const h = new Map<string, string>();
  for (let i = 0; i < headers.length; i++) { const kv = headers[i].split("="); h.set(kv[0], kv[1]); }
  const c = new Map<string, string>();
  for (let i = 0; i < cookies.length; i++) { const kv = cookies[i].split("="); c.set(kv[0], kv[1]); }
  return new View(h, c, path, method);
}

const CFG = '{"override_header":"x-force","canary_tag":"v2","stable_tag":"v1",' +
  '"rules":[{"match":{"all":[{"type":"header","key":"x-beta","op":"equal","value":"yes"}]},"tag":"v2"},' +
  '{"match":{"any":[{"type":"path","op":"prefix","value":"/labs/"},{"type":"method","op":"equal","value":"PATCH"}]},"tag":"v3"}],' +
  '"weights":[{"tag":"v1","weight":90},{"tag":"v2","weight":10}],"sticky_by":{"header":"x-user"},"pin_cookie":"pin","default_tag":"v1"}';

describe("decide: first that applies wins", () => {
  it("one row per source", () => {
    const cfg = config(CFG);
    const rows: Array<View> = [
      req(["x-force=always", "x-beta=yes"], []),   // override beats rules
      req(["x-force=never"], []),
      req(["x-force=maybe", "x-beta=yes"], []),    // other override values ignored
      req([], [], "/labs/x"),
      req([], [], "/", "PATCH"),
      req(["x-user=alice"], ["pin=v2"]),           // sticky beats the pin
      req([], ["pin=v2"]),
      req([], ["pin=v9"]),                          // a pin naming no weighted tag: draw
      req([], []),
    ];
    const tags: string[] = ["v2", "v1", "v2", "v3", "v3", tagForSticky(cfg, "alice").name, "v2", "", ""];
    const sources: i32[] = [Source.OVERRIDE, Source.OVERRIDE, Source.RULE, Source.RULE, Source.RULE, Source.STICKY, Source.PIN, Source.DRAW, Source.DRAW];
    for (let i = 0; i < rows.length; i++) {
      const d = decide(cfg, rows[i], null, new Decision());
      expect(d.source).toBe(sources[i], "row " + i.toString());
      expect(d.tag.name).toBe(tags[i], "row " + i.toString());
    }
  });

  it("a trusted client tag is kept; an untrusted one is ignored", () => {
    const trusted = config('{"trust_client_tag":true,"default_tag":"v1"}');
    expect(decide(trusted, req([], []), "v7", new Decision()).source).toBe(Source.CLIENT);
    const untrusted = config('{"default_tag":"v1"}');
    const d = decide(untrusted, req([], []), "v7", new Decision());
    expect(d.source).toBe(Source.DEFAULT);
    expect(d.tag.name).toBe("v1");
  });

  it("draws split by weight, sticky values always land the same", () => {
    const cfg = config('{"weights":[{"tag":"a","weight":25},{"tag":"b","weight":75}]}');
    expect(tagForDraw(cfg, 0).name).toBe("a");
    expect(tagForDraw(cfg, 0xffffffff).name).toBe("b");
    let a = 0;
    for (let i: u32 = 0; i < 1000; i++) if (tagForDraw(cfg, i * 4294967).name == "a") a++;
    expect(a >= 200 && a <= 300).toBe(true, "a got " + a.toString() + " of 1000 evenly spread draws");
    for (let i = 0; i < 5; i++) expect(tagForSticky(cfg, "user-42").name).toBe(tagForSticky(cfg, "user-42").name);
  });
});
