import { parseJson, JsonKind, describeJson } from "../../assembly/json";
import { ConfigReader } from "../../assembly/config";
import { RuleSet, Rule, domainMatches, domainPatternProblem, normalizeDomainPattern, normalizeHost, serviceMatches, parseRuleSet } from "../../assembly/rules";
import {
  cookieValue, queryParam, hostWithoutPort, sanitizeHeaderValue, constantTimeEquals, pathWithoutQuery,
  removeQueryParam, removeCookie, joinStrings, toLowerAscii, percentDecode,
} from "../../assembly/http";

class Cfg {
  constructor(public origin: string, public maxAge: i64) {}
}

function parseCfg(r: ConfigReader): Cfg | null {
  r.allowOnly(["origin", "max_age"]);
  const c = new Cfg(r.str("origin", "*"), r.int("max_age", 86400, 0, 2147483647));
  return r.ok() ? c : null;
}

describe("parseJson", () => {
  it("parses nested values", () => {
    const v = parseJson('{"a":[1,2.5,-3e2],"b":{"c":"x\\u00e9\\n"},"d":true,"e":null}')!;
    expect(v.kind).toBe(JsonKind.OBJECT);
    expect(v.get("a")!.items[2].n).toBe(-300.0);
    expect(v.get("b")!.get("c")!.s).toBe("xé\n");
    expect(v.get("d")!.b).toBe(true);
    expect(v.get("e")!.isNull()).toBe(true);
  });
  it("rejects malformed input without trapping", () => {
    const bad = ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "{\"a\":1}x", "\"a\nb\""];
    for (let i = 0; i < bad.length; i++) expect(parseJson(bad[i])).toBeNull(bad[i]);
  });
  it("bounds nesting depth", () => {
    expect(parseJson("[".repeat(100000))).toBeNull();
    expect(parseJson("[".repeat(60) + "]".repeat(60))).not.toBeNull();
  });
  it("reads numbers without strtod, exactly for config-sized decimals", () => {
    expect(parseJson("0.1")!.n).toBe(0.1);
    expect(parseJson("1e3")!.n).toBe(1000.0);
    expect(parseJson("2.5e-1")!.n).toBe(0.25);
    expect(parseJson("-86400")!.n).toBe(-86400.0);
    expect(parseJson("9007199254740993")!.n).toBe(9007199254740992.0);
    expect(parseJson("1e999")!.n).toBe(Infinity);
    expect(parseJson("1e-999")!.n).toBe(0.0);
  });
  it("describes values for error messages", () => {
    expect(describeJson(parseJson("42"))).toBe("42");
    expect(describeJson(parseJson("-1.5"))).toBe("-1.5");
    expect(describeJson(parseJson("0.125"))).toBe("0.125");
    expect(describeJson(parseJson("1e20"))).toBe("1e20");
    expect(describeJson(parseJson("\"x\""))).toBe("\"x\"");
  });
});

describe("ConfigReader", () => {
  it("names the field and the rule", () => {
    const r = ConfigReader.parse('{"max_age": -1}');
    parseCfg(r);
    expect(r.error).toBe("'max_age' must be a non-negative integer, got -1");
  });
  it("rejects unknown fields", () => {
    const r = ConfigReader.parse('{"origin":"a","orgin":"b"}');
    parseCfg(r);
    expect(r.error).toBe("'orgin' is not a known field; allowed: origin, max_age");
  });
  it("paths array elements and children", () => {
    const r = ConfigReader.parse('{"list":["a",3],"kids":[{"x":1}]}');
    r.strList("list", []);
    expect(r.error).toBe("'list[1]' must be a string, got 3");
    const r2 = ConfigReader.parse('{"kids":[{"x":"1"}]}');
    const kids = r2.children("kids");
    kids[0].int("x", 0, 0, 10);
    expect(r2.error).toBe("'kids[0].x' must be an integer between 0 and 10, got \"1\"");
  });
  it("reports invalid JSON", () => {
    expect(ConfigReader.parse("{").ok()).toBe(false);
    expect(ConfigReader.parse("").ok()).toBe(true);
  });
});

describe("_rules_", () => {
  it("selects the first matching rule, else global", () => {
    const set = parseRuleSet<Cfg>('{"origin":"g","_rules_":[{"_match_route_":["r1"],"origin":"a"},{"_match_domain_":["*.example.com"],"origin":"b"}]}', parseCfg)!;
    expect(set.selectFor("r1", "x.example.com", "")!.origin).toBe("a");
    expect(set.selectFor("r2", "x.example.com", "")!.origin).toBe("b");
    expect(set.selectFor("r2", "example.com", "")!.origin).toBe("g");
  });
  it("has no global when only _rules_ is set", () => {
    const set = parseRuleSet<Cfg>('{"_rules_":[{"_match_service_":["svc.ns.svc.cluster.local"],"origin":"a"}]}', parseCfg)!;
    expect(set.selectFor("", "", "outbound|80||svc.ns.svc.cluster.local")!.origin).toBe("a");
    expect(set.selectFor("", "", "outbound|80||other")).toBeNull();
  });
  it("rejects rules with no or two matchers and bad rule config", () => {
    expect(parseRuleSet<Cfg>('{"_rules_":[{"origin":"a"}]}', parseCfg)).toBeNull();
    expect(parseRuleSet<Cfg>('{"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]}', parseCfg)).toBeNull();
    expect(parseRuleSet<Cfg>('{"_rules_":[{"_match_route_":["a"],"max_age":-5}]}', parseCfg)).toBeNull();
    expect(parseRuleSet<Cfg>('{"_rules_":{}}', parseCfg)).toBeNull();
  });
  it("matches domains and services", () => {
    expect(domainMatches("*.example.com", "a.example.com")).toBe(true);
    expect(domainMatches("*.example.com", "example.com")).toBe(false);
    expect(domainMatches("api.example.com", "api.example.com.evil.com")).toBe(false);
    expect(serviceMatches("svc:8080", "outbound|8080|v1|svc")).toBe(true);
    expect(serviceMatches("svc:80", "outbound|8080|v1|svc")).toBe(false);
  });
  it("normalises the request host: case, port, trailing dots; IPv6 brackets kept", () => {
    const hosts: string[][] = [
      ["secure.example.com", "secure.example.com"], ["SECURE.Example.COM", "secure.example.com"],
      ["secure.example.com.", "secure.example.com"], ["secure.example.com..", "secure.example.com"],
      ["secure.example.com:80", "secure.example.com"], ["Secure.Example.com.:8443", "secure.example.com"],
      ["[::1]:8080", "[::1]"], ["[::1]", "[::1]"], ["", ""], [".", ""],
    ];
    for (let i = 0; i < hosts.length; i++) expect(normalizeHost(hosts[i][0])).toBe(hosts[i][1]);
  });
  it("matches prefix wildcards as Envoy's domains: at least one character", () => {
    expect(domainMatches("admin.*", "admin.example.org")).toBe(true);
    expect(domainMatches("admin.*", "admin.")).toBe(false);
    expect(domainMatches("admin.*", "xadmin.example.org")).toBe(false);
    expect(domainMatches("*", "anything")).toBe(true);
  });
  it("refuses patterns that could never match and normalises the rest", () => {
    const refused: string[] = ["", "..", "a.com:443", "a*b.com", "*.a.*", "a b", "[::1]:443", "[]", "https://a.com"];
    for (let i = 0; i < refused.length; i++) expect(domainPatternProblem(refused[i]).length).toBeGreaterThan(0);
    const ok: string[] = ["a.com", "*", "*.a.com", "a.*", "[::1]", "A.COM.", "*.a.com."];
    for (let i = 0; i < ok.length; i++) expect(domainPatternProblem(ok[i])).toBe("");
    expect(normalizeDomainPattern("*.Example.COM.")).toBe("*.example.com");
    expect(parseRuleSet<Cfg>('{"_rules_":[{"_match_domain_":["a.com:443"],"origin":"x"}]}', parseCfg)).toBeNull();
  });
});

describe("http helpers", () => {
  it("parses cookies per RFC 6265", () => {
    expect(cookieValue("a=1; uid=abc; b=2", "uid")).toBe("abc");
    expect(cookieValue("uidx=1; uid=2", "uid")).toBe("2");
    expect(cookieValue("  uid = \"q\" ;x=1", "uid")).toBe("q");
    expect(cookieValue("uid=1; uid=2", "uid")).toBe("1");
    expect(cookieValue("a=1", "uid")).toBeNull();
    expect(cookieValue(";;=;", "uid")).toBeNull();
  });
  it("parses query strings", () => {
    expect(queryParam("/p?a=1&u=x%20y+z&u=2", "u")).toBe("x y z");
    expect(queryParam("/p?flag&b=1", "flag")).toBe("");
    expect(queryParam("/p#?u=1", "u")).toBeNull();
    expect(queryParam("/p?u=%zz", "u")).toBe("%zz");
    expect(pathWithoutQuery("/a/b?x#y")).toBe("/a/b");
    // A parameter without '=' never borrows a later one's (the '=' is looked for inside the item only).
    expect(queryParam("/p?u&x=1", "u")).toBe("");
    expect(queryParam("/p?a&u=2", "a")).toBe("");
    expect(queryParam("/p?=1&u=2", "")).toBeNull();
    // Encoded names compare as percentDecode would decode them, without allocating per key.
    expect(queryParam("/p?%75=1", "u")).toBe("1");
    expect(queryParam("/p?a+b=1", "a b")).toBe("1");
    expect(queryParam("/p?%C3%A9=1", "\u00e9")).toBe("1");
    expect(queryParam("/p?%E9=1", "\u00e9")).toBe("1"); // not UTF-8: one char per byte, as percentDecode
    expect(queryParam("/p?%C3%A9x=1", "\u00e9")).toBeNull();
    expect(queryParam("/p?%7=1&%=2", "%7")).toBe("1");
    expect(queryParam("/p?\u00e9=1", percentDecode("%C3%A9"))).toBe("1");
  });
  it("removes query parameters and cookies in one pass", () => {
    expect(removeQueryParam("/p?a=1&k=2&b&k&%6B=3&c=#f", "k")).toBe("/p?a=1&b&c=#f");
    expect(removeQueryParam("/p?k=1", "k")).toBe("/p");
    expect(removeQueryParam("/p?k=1&&", "k")).toBe("/p");
    expect(removeQueryParam("/p?&&a", "k")).toBe("/p?a");
    expect(removeQueryParam("/p", "k")).toBe("/p");
    expect(removeQueryParam("/p#?k=1", "k")).toBe("/p#?k=1");
    expect(removeCookie("a=1;jwt=x; b=2 ;  jwt = y;c", "jwt")).toBe("a=1; b=2; c");
    expect(removeCookie("jwt=x", "jwt")).toBe("");
    expect(removeCookie(";;a=1;;", "jwt")).toBe("a=1");
    expect(removeCookie("jwtx=1; xjwt=2", "jwt")).toBe("jwtx=1; xjwt=2");
  });
  it("joins and lower-cases in one allocation", () => {
    expect(joinStrings(["a", "", "bc"], ", ")).toBe("a, , bc");
    expect(joinStrings([], ",")).toBe("");
    expect(joinStrings(["x"], ",")).toBe("x");
    expect(toLowerAscii("X-Api-KEY\u00c9")).toBe("x-api-key\u00c9");
    expect(sanitizeHeaderValue("  a\tb  ")).toBe("a\tb");
  });
  it("handles authorities and header hygiene", () => {
    expect(hostWithoutPort("a.com:8080")).toBe("a.com");
    expect(hostWithoutPort("[::1]:80")).toBe("[::1]");
    expect(sanitizeHeaderValue("a\r\nb\0c")).toBe("abc");
    expect(constantTimeEquals("secret", "secret")).toBe(true);
    expect(constantTimeEquals("secret", "secreT")).toBe(false);
    expect(constantTimeEquals("secret", "secret2")).toBe(false);
  });
});

import { malloc, RET_PTR, RET_SIZE } from "../../assembly/memory";
import { decodeBytes, takeStringCached } from "../../assembly/values";

function bytesOf(values: u8[]): Uint8Array {
  const b = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) b[i] = values[i];
  return b;
}

describe("header byte decoding", () => {
  it("decodes valid UTF-8, strictly: anything else byte for byte (latin1)", () => {
    expect(decodeBytes(bytesOf([0x61, 0xc3, 0xa9]).dataStart, 3)).toBe("aé");
    expect(decodeBytes(bytesOf([0x61, 0xf0, 0x9f, 0x98, 0x80]).dataStart, 5)).toBe("a😀"); // surrogate pair
    const invalid: u8[][] = [
      [0xc0, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xe2, 0x82], // truncated
      [0xf4, 0x90, 0x80, 0x80], // > U+10FFFF
      [0x61, 0xc3, 0xa9, 0xff], // valid prefix, then an invalid byte
    ];
    for (let k = 0; k < invalid.length; k++) {
      const bytes = invalid[k];
      const s = decodeBytes(bytesOf(bytes).dataStart, bytes.length);
      expect(s.length).toBe(bytes.length);
      for (let i = 0; i < bytes.length; i++) expect(s.charCodeAt(i)).toBe(<i32>bytes[i]);
    }
  });
  it("decodes invalid UTF-8 byte for byte, so distinct bytes never compare equal", () => {
    const a = decodeBytes(bytesOf([0x6b, 0xff]).dataStart, 2);
    const b = decodeBytes(bytesOf([0x6b, 0x80]).dataStart, 2);
    expect(a).not.toBe(b);
    expect(a.length).toBe(2);
    expect(decodeBytes(bytesOf([0x6b, 0xc3, 0xa9]).dataStart, 3)).toBe("ké");
  });
});

/** Puts `s` where a host call would: bytes from the guest allocator, their address and size in RET_PTR/RET_SIZE. */
function hostResult(s: string): void {
  const b = String.UTF8.encode(s, false);
  const p = malloc(<usize>b.byteLength);
  memory.copy(p, changetype<usize>(b), <usize>b.byteLength);
  store<u32>(RET_PTR, <u32>p);
  store<u32>(RET_SIZE, <u32>b.byteLength);
}

describe("repeated header values (takeStringCached)", () => {
  it("returns the same string for the same bytes, a new one as soon as the bytes differ", () => {
    const site: usize = 0x1230;
    hostResult("https://app.example.com");
    const a = takeStringCached(site);
    hostResult("https://app.example.com");
    const b = takeStringCached(site);
    expect(a).toBe("https://app.example.com");
    expect(changetype<usize>(b)).toBe(changetype<usize>(a), "a repeated value is not decoded again");
    hostResult("https://app.example.org"); // same length, different bytes
    expect(takeStringCached(site)).toBe("https://app.example.org");
    hostResult("https://a.example"); // another length
    expect(takeStringCached(site)).toBe("https://a.example");
    hostResult("é");
    expect(takeStringCached(site)).toBe("é");
  });
  it("stays right when call sites share a slot, and for empty values", () => {
    const one: usize = 0x40;
    const other: usize = 0x40 + (16 << 4); // same slot of 16
    hostResult("GET");
    expect(takeStringCached(one)).toBe("GET");
    hostResult("PUT");
    expect(takeStringCached(other)).toBe("PUT");
    hostResult("GET");
    expect(takeStringCached(one)).toBe("GET");
    store<u32>(RET_PTR, 0);
    store<u32>(RET_SIZE, 0);
    expect(takeStringCached(one)).toBe("");
  });
});

import { StringTable } from "../../assembly/table";
import { bytesEqual } from "../../assembly/values";

describe("StringTable", () => {
  it("adds, finds and refuses duplicates, keeping the first value", () => {
    const t = new StringTable();
    expect(t.get("a")).toBe(-1);
    expect(t.has("")).toBe(false);
    expect(t.add("a", 0)).toBe(-1);
    expect(t.add("", 1)).toBe(-1);
    expect(t.add("é😀", 2)).toBe(-1);
    expect(t.add("a", 7)).toBe(0);
    expect(t.get("a")).toBe(0);
    expect(t.get("")).toBe(1);
    expect(t.get("é😀")).toBe(2);
    expect(t.has("b")).toBe(false);
    expect(t.size).toBe(3);
  });
  it("keeps every key across growth, including keys that differ only in a code unit's high bits", () => {
    const t = new StringTable();
    const n = 5000;
    for (let i = 0; i < n; i++) expect(t.add("k" + i.toString(), i)).toBe(-1);
    // U+0141, U+0241, …: one code unit each, equal low bytes, so slots must depend on the high bytes too.
    for (let i = 0; i < 255; i++) expect(t.add(String.fromCharCode(0x100 * (i + 1) + 0x41), n + i)).toBe(-1);
    expect(t.size).toBe(n + 255);
    for (let i = 0; i < n; i++) expect(t.get("k" + i.toString())).toBe(i);
    for (let i = 0; i < 255; i++) expect(t.get(String.fromCharCode(0x100 * (i + 1) + 0x41))).toBe(n + i);
    expect(t.get("k" + n.toString())).toBe(-1);
    expect(t.add("k17", 0)).toBe(17);
  });
});

describe("bytesEqual", () => {
  it("compares byte ranges of any length and alignment", () => {
    const a = bytesOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const b = bytesOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    for (let n = 0; n <= 18; n++) expect(bytesEqual(a.dataStart, b.dataStart + 1, <usize>n)).toBe(true);
    b[18] = 99;
    expect(bytesEqual(a.dataStart, b.dataStart + 1, 18)).toBe(false);
    expect(bytesEqual(a.dataStart, b.dataStart + 1, 17)).toBe(true);
    b[3] = 99;
    expect(bytesEqual(a.dataStart, b.dataStart + 1, 8)).toBe(false);
    expect(bytesEqual(a.dataStart, b.dataStart, 0)).toBe(true);
  });
});

import { hexDigit } from "../../assembly/number";

describe("hexDigit", () => {
  it("reads 0-9, a-f and A-F, and nothing else", () => {
    expect(hexDigit(0x30)).toBe(0);
    expect(hexDigit(0x39)).toBe(9);
    expect(hexDigit(0x61)).toBe(10);
    expect(hexDigit(0x46)).toBe(15);
    const bad: i32[] = [0x2f, 0x3a, 0x40, 0x47, 0x60, 0x67, 0x66 + 0x100, 0x141, 0x20, 0];
    for (let i = 0; i < bad.length; i++) expect(hexDigit(bad[i])).toBe(-1);
    expect(parseJson('"\\u00E9\\u00e9\\u0G00"')).toBeNull();
    expect(parseJson('"\\u00E9\\u00e9"')!.s).toBe("éé");
    expect(percentDecode("%c3%A9%4g")).toBe("é%4g");
  });
});
