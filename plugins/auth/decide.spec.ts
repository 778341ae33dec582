// Table tests of the pure credential choice (decide.ts) and checks (credentials.ts), beside the code; the
// tests on the compiled .wasm (test/plugins/auth) and the black-box tests (test/idp, test/scenarios) stay.
// Run by `npm run test:assembly`.
import { parseAuthConfig } from "./config";
import { Found, Source } from "./constants";
import { checkBasic, matchKey } from "./credentials";
import { chooseCredential, Credential, RequestView } from "./decide";

class View extends RequestView {
  constructor(public headers: Map<string, string>, public path: string, public cookieHeader: string | null) { super(); }
  header(name: string): string | null { return this.headers.has(name) ? this.headers.get(name) : null; }
  fullPath(): string { return this.path; }
  cookies(): string | null { return this.cookieHeader; }
}

/** A request from "name=value" header pairs (split on the first '='), a path and a Cookie header. */
function req(headers: string[], path: string = "/", cookies: string | null = null): View {
  const h = new Map<string, string>();
  for (let i = 0; i < headers.length; i++) {
    const eq = headers[i].indexOf("=");
    h.set(headers[i].substring(0, eq), headers[i].substring(eq + 1));
  }
  return new View(h, path, cookies);
}

const HS = '{"keys":[{"kty":"oct","kid":"k1","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Njc4"}]}';
const ALL = '{"consumers":[{"name":"alice","keys":["k-alice-0123456789"],"basic":["bob:secret"],' +
  '"jwt":{"issuer":"https://issuer.example","jwks":' + HS + '}}],' +
  '"key_auth":{"keys":["x-api-key","apikey"],"in_query":true},"basic_auth":{},' +
  '"jwt_auth":{"from_headers":[{"name":"authorization","value_prefix":"Bearer "}],"from_params":["access_token"],"from_cookies":["session"]}}';

describe("chooseCredential: the first method whose credential is present decides", () => {
  it("one row per outcome", () => {
    const cfg = parseAuthConfig(ALL)!.config;
    const rows: View[] = [
      req([]),                                                         // nothing
      req(["x-api-key= k-1 "]),                                         // key, blanks trimmed
      req(["x-api-key=k-1", "apikey=k-2"]),                             // two keys
      req(["x-api-key=k-1"], "/?apikey=k-2"),                           // header + query: two keys
      req([], "/?apikey=k-3"),                                          // key in the query
      req(["authorization=Basic Ym9iOnNlY3JldA=="]),                     // Basic
      req(["authorization=basic Ym9iOnNlY3JldA==", "x-api-key=k-1"]),    // the key comes first
      req(["authorization=Bearer a.b.c "]),                             // JWT in Authorization, trailing blank dropped
      req([], "/?access_token=t.o.k"),                                  // JWT in a parameter
      req([], "/", "a=1; session=s.e.s"),                               // JWT in a cookie
      req(["authorization=Digest x"]),                                  // no method claims this scheme
    ];
    const found: u8[] = [Found.NONE, Found.KEY, Found.KEY_MULTIPLE, Found.KEY_MULTIPLE, Found.KEY, Found.BASIC, Found.KEY, Found.JWT, Found.JWT, Found.JWT, Found.NONE];
    const values: string[] = ["", "k-1", "", "", "k-3", "Basic Ym9iOnNlY3JldA==", "k-1", "a.b.c", "t.o.k", "s.e.s", ""];
    const sources: u8[] = [0, Source.HEADER, 0, 0, Source.QUERY, Source.HEADER, Source.HEADER, Source.HEADER, Source.QUERY, Source.COOKIE, 0];
    for (let i = 0; i < rows.length; i++) {
      const c = chooseCredential(cfg, rows[i], new Credential());
      expect(c.found).toBe(found[i], "row " + i.toString());
      if (c.found == Found.NONE || c.found == Found.KEY_MULTIPLE) continue;
      expect(c.found == Found.JWT ? c.token() : c.value).toBe(values[i], "row " + i.toString());
      expect(c.source).toBe(sources[i], "row " + i.toString());
    }
  });

  it("keeps the Authorization value Basic looked at, for the missing-credential reply", () => {
    const cfg = parseAuthConfig('{"consumers":[{"name":"a","basic":["u:p"]}],"basic_auth":{}}')!.config;
    expect(chooseCredential(cfg, req(["authorization=Bearer x"]), new Credential()).authorization).toBe("Bearer x");
    expect(chooseCredential(cfg, req([]), new Credential()).authorization).toBeNull();
  });
});

describe("credential checks", () => {
  it("matchKey and checkBasic", () => {
    const cfg = parseAuthConfig(ALL)!.config;
    expect(matchKey(cfg, "k-alice-0123456789")).toBe(0);
    expect(matchKey(cfg, "k-alice-012345678")).toBe(-1);
    expect(matchKey(cfg, "")).toBe(-1);
    // [Authorization, consumer (-1 = refused)]
    const basic: string[][] = [
      ["Basic Ym9iOnNlY3JldA==", "0"],   // bob:secret
      ["Basic Ym9iOnNlY3JldA", "0"],     // padding optional
      ["BASIC  Ym9iOnNlY3JldA==", "0"],  // scheme case, several spaces
      ["Basic Ym9iOndyb25n", "-1"],      // bob:wrong
      ["Basic ZXZlOnNlY3JldA==", "-1"],  // eve:secret (unknown user: same reply as a wrong password)
      ["Basic !!!", "-1"],
    ];
    for (let i = 0; i < basic.length; i++) expect(checkBasic(cfg, basic[i][0]).consumer).toBe(I32.parseInt(basic[i][1]), basic[i][0]);
  });
});
