// Table tests of the Ingress translation's pieces added for issue 21's remaining gaps: htpasswd entries → auth plugin
// Basic credentials (what nginx reads, what the plugin can check), auth-type/auth-secret/whitelist-source-range/
// canary-by-header-pattern on the route model, and the input errors that keep an auth from being dropped.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { compileRe2 } from "../../tools/gateway/re2.ts";
import { IngressError } from "../../tools/k8s/errors.ts";
import { basicCredential, parseHtpasswd } from "../../tools/k8s/htpasswd.ts";
import { formatNotes, headerPatternRegex, translate } from "../../tools/k8s/ingress.ts";
import { readIngresses } from "../../tools/k8s/ingress-read.ts";
import { checkAuthorizationPolicy } from "../../tools/k8s/from-ingress.ts";
import { pluginConfigs } from "../../tools/k8s/ingress-plugins.ts";
import { istioObjects } from "../../tools/k8s/ingress-out.ts";
import type { SecretDoc } from "../../tools/k8s/ingress.ts";

const sha = (p: string) => createHash("sha1").update(p).digest("base64");

test("htpasswd lines as nginx reads them", () => {
  const text = "# comment\r\nalice:{SHA}abc\n\nbob:{PLAIN}pw:a comment\nnocolon\ncarol:\n";
  assert.deepEqual(parseHtpasswd(text), [
    { user: "alice", hash: "{SHA}abc", line: 2 },
    { user: "bob", hash: "{PLAIN}pw", line: 4 },
    { user: "nocolon", hash: "", line: 5 },
    { user: "carol", hash: "", line: 6 },
  ]);
});

test("htpasswd hashes → auth plugin credentials, or why not", () => {
  const cases: Array<[string, string, string | RegExp]> = [
    ["alice", `{SHA}${sha("wonderland")}`, `alice:{SHA}${sha("wonderland")}`],
    ["bob", "{PLAIN}builder", "bob:builder"],
    ["bob", "{PLAIN}pa ss:word", "bob:pa ss:word"],
    ["x", "{PLAIN}{SHA}abc", /would be read as a hash/],
    ["x", "{PLAIN}{SHA256}abc", /would be read as a hash/],
    ["x", "{SHA}short", /not the base64 of a 20-byte SHA-1/],
    ["x", "$apr1$abcdefgh$0123456789012345678901", /Apache MD5 \(\$apr1\$/],
    ["x", "$2y$05$abcdefghijklmnopqrstuu5qJ3B6KkXy8bB3q1h1qQ2wK9gqkA3yS", /bcrypt/],
    ["x", "$2b$05$abcdefghijklmnopqrstuu5qJ3B6KkXy8bB3q1h1qQ2wK9gqkA3yS", /bcrypt/],
    ["x", "$1$salt$hash", /MD5-crypt/],
    ["x", "$5$salt$hash", /SHA-256-crypt/],
    ["x", "$6$salt$hash", /SHA-512-crypt/],
    ["x", "{SSHA}abcdef", /salted SHA-1/],
    ["x", "{SHA256}abcdef", /\{SHA256\} \(nginx knows only/],
    ["x", "rl7eLlG8kTqwg", /DES crypt/],
    ["x", "password", /crypt\(3\) hash.*\{PLAIN\}/],
    ["x", "", /no password/],
    ["with space", "{PLAIN}a", /user name/],
    ["", "{PLAIN}a", /user name/],
  ];
  for (const [user, hash, want] of cases) {
    const r = basicCredential(user, hash);
    if (typeof want === "string") assert.deepEqual(r, { credential: want }, `${user}:${hash}`);
    else {
      assert.ok("refused" in r, `${user}:${hash} should be refused`);
      assert.match(r.refused, want, `${user}:${hash}`);
    }
  }
});

test("canary-by-header-pattern matches anywhere in the value (ngx.re.match), as a whole-value RE2", () => {
  const cases: Array<[string, string, boolean]> = [
    ["(eu|us)-west", "eu-west-1", true],
    ["(eu|us)-west", "prod-us-west", true],
    ["(eu|us)-west", "EU-WEST", false],
    ["(eu|us)-west", "ap-south", false],
    ["^beta$", "beta", true],
    ["^beta$", "xbeta", false],
    ["a|b", "xxb", true],
    ["a|b", "c", false],
    ["^v\\d+$", "v12", true],
  ];
  for (const [pattern, value, want] of cases) {
    const re = compileRe2(`^(?:${headerPatternRegex(pattern)})$`);
    assert.equal(re.test(value), want, `${pattern} on ${value}`);
    assert.equal(new RegExp(pattern).test(value), want, `PCRE-compatible reading of ${pattern} on ${value}`);
  }
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

async function model(ann: Record<string, string>, extra = "", canary?: Record<string, string>) {
  const doc = (name: string, a: Record<string, string>) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ns
  annotations: ${JSON.stringify(a)}
spec:
  rules:
    - host: a.example.com
      http:
        paths:
          - {path: /x, pathType: Prefix, backend: {service: {name: ${name}, port: {number: 80}}}}
`;
  let text = doc("app", ann);
  if (canary) text += `---\n${doc("app-canary", { "nginx.ingress.kubernetes.io/canary": "true", ...canary })}`;
  if (extra) text += `---\n${extra}`;
  // The canary must share the host/path; its backend differs.
  const notes: string[] = [];
  const secrets = new Map<string, SecretDoc>();
  const ings = await readIngresses([{ file: "in.yaml", text }], notes, secrets);
  return translate(ings, notes, secrets);
}

const secret = (name: string, data: Record<string, string>, ns = "ns") => `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${ns}}
stringData: ${JSON.stringify(data)}
`;

test("auth-type basic: users, realm, scope and the auth plugin config", async () => {
  const m = await model(
    { "nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "users", "nginx.ingress.kubernetes.io/auth-realm": "Staff only" },
    secret("users", { auth: `ann:{PLAIN}pw\nben:$apr1$x$y\n` }),
  );
  assert.deepEqual(m.basicAuth.get("ns/app"), { realm: "Staff only", secret: "ns/users", users: [{ user: "ann", credential: "ann:pw" }] });
  assert.ok(formatNotes(m).some((l) => l.includes('Secret ns/users line 2, user "ben": Apache MD5')), formatNotes(m).join("\n"));
  const auth = pluginConfigs(m, "envoy").get("auth") as Any;
  assert.deepEqual(auth, {
    basic_auth: { realm: "Staff only", hide_credentials: true },
    consumers: [{ name: "ann", basic: ["ann:pw"] }],
    global_auth: false,
    _rules_: [{ _match_route_: ["ns/app"], allow: ["ann"] }],
  });
  assert.equal(pluginConfigs(m, "higress").get("auth"), undefined, "Higress reads the Secret itself");
  // auth-map: one key per user; the default realm is nginx's empty one.
  const map = await model({ "higress.io/auth-type": "basic", "higress.io/auth-secret": "other/users", "higress.io/auth-secret-type": "auth-map" }, secret("users", { zed: `{SHA}${sha("z")}\n` }, "other"));
  assert.deepEqual(map.basicAuth.get("ns/app"), { realm: "", secret: "other/users", users: [{ user: "zed", credential: `zed:{SHA}${sha("z")}` }] });
});

test("annotations the translation cannot keep are errors naming the field, never a route served open", async () => {
  const basic = { "nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "users" };
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ "nginx.ingress.kubernetes.io/auth-type": "digest", "nginx.ingress.kubernetes.io/auth-secret": "users" }, secret("users", { auth: "a:{PLAIN}b" }), /auth-type"\]: digest cannot be translated/],
    [{ "nginx.ingress.kubernetes.io/auth-type": "form" }, "", /auth-type"\]: must be "basic" or "digest"/],
    [{ "nginx.ingress.kubernetes.io/auth-type": "basic" }, "", /auth-secret"\]: is required with auth-type basic/],
    [basic, "", /names Secret ns\/users, which is not in the input.*fix: pass the Secret's manifest/s],
    [basic, secret("users", { htpasswd: "a:{PLAIN}b" }), /Secret ns\/users has no key 'auth'/],
    [basic, secret("users", { auth: "a:$apr1$x$y\nb:$2y$05$z" }), /Secret ns\/users has no user the auth plugin can check \("a": Apache MD5.*; "b": bcrypt/],
    [basic, secret("users", { auth: "# only a comment\n" }), /has no user the auth plugin can check \(no entries\)/],
    [{ ...basic, "nginx.ingress.kubernetes.io/auth-secret-type": "auth-json" }, secret("users", { auth: "a:{PLAIN}b" }), /auth-secret-type"\]: must be auth-file or auth-map/],
    [{ ...basic, "nginx.ingress.kubernetes.io/auth-realm": 'say "hi"' }, secret("users", { auth: "a:{PLAIN}b" }), /auth-realm"\]: 'say "hi"' has '"'/],
    [{ ...basic, "nginx.ingress.kubernetes.io/auth-secret": "a/b/c" }, "", /is not a Secret name or <namespace>\/<name>/],
    [{ "nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/33" }, "", /whitelist-source-range"\]: '10.0.0.0\/33' is not an IP address or CIDR/],
    [{ "nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8, example.com" }, "", /'example.com' is not an IP address/],
  ];
  for (const [ann, extra, want] of cases) {
    await assert.rejects(model(ann, extra), (e: unknown) => {
      assert.ok(e instanceof IngressError, String(e));
      assert.match(`${e.message}\nfix: ${(e as Any).fix ?? ""}`, want);
      return true;
    }, JSON.stringify(ann));
  }
  await assert.rejects(model({}, "", { "nginx.ingress.kubernetes.io/canary-by-header": "x", "nginx.ingress.kubernetes.io/canary-by-header-pattern": "(a)\\1" }), /canary-by-header-pattern"\]: cannot run as RE2 \(Envoy's regex engine\): invalid escape sequence: \\1/);
  await assert.rejects(model({}, "", { "nginx.ingress.kubernetes.io/canary-by-header": "x", "nginx.ingress.kubernetes.io/canary-by-header-pattern": "a(?=b)" }), /cannot run as RE2/);
});

test("one password per user across Secrets; the realm and the 403 are reported differences", async () => {
  const two = (b: string) => `${secret("s1", { auth: "ann:{PLAIN}one" })}---\n${secret("s2", { auth: b })}---\napiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: other
  namespace: ns
  annotations: {"nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "s2", "nginx.ingress.kubernetes.io/auth-realm": "two"}
spec:
  rules:
    - host: b.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}]}
`;
  const ann = { "nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "s1", "nginx.ingress.kubernetes.io/auth-realm": "one" };
  await assert.rejects(model(ann, two("ann:{PLAIN}two")), /user "ann" is in Secret ns\/s1 and Secret ns\/s2 with different passwords/);
  const m = await model(ann, two("ann:{PLAIN}one\nbo:{PLAIN}b"));
  const lines = formatNotes(m);
  assert.ok(lines.includes('difference: Ingress ns/other: nginx.ingress.kubernetes.io/auth-realm: realm "two" differs from "one" (Ingress ns/app): the auth plugin has one Basic realm, "one" is sent'), lines.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("difference: Ingress ns/app: nginx.ingress.kubernetes.io/auth-secret: users of other Ingresses' Secrets (bo) get 403")), lines.join("\n"));
  const auth = pluginConfigs(m, "istio").get("auth") as Any;
  assert.deepEqual(auth.consumers.map((c: Any) => c.name), ["ann", "bo"]);
  assert.deepEqual(auth._rules_, [{ _match_route_: ["ns/app"], allow: ["ann"] }, { _match_route_: ["ns/other"], allow: ["ann", "bo"] }]);
});

test("whitelist-source-range → CIDRs (host bits cleared, bare addresses single hosts); annotations without effect reported", async () => {
  const m = await model({ "nginx.ingress.kubernetes.io/whitelist-source-range": "10.1.2.3/8, 192.168.0.7,2001:db8::/32, ::1", "nginx.ingress.kubernetes.io/auth-realm": "x" });
  assert.deepEqual(m.sourceRanges.get("ns/app"), ["10.0.0.0/8", "192.168.0.7/32", "2001:db8::/32", "::1/128"]);
  assert.ok(formatNotes(m).includes("not translated: Ingress ns/app: nginx.ingress.kubernetes.io/auth-realm: has no effect without auth-type (as in ingress-nginx)"));
  const empty = await model({ "nginx.ingress.kubernetes.io/whitelist-source-range": " " });
  assert.equal(empty.sourceRanges.size, 0);
});

test("whitelist-source-range on a rule without host: the policy spares the hosts other rules name", async () => {
  const text = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: any, namespace: ns, annotations: {"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8"}}
spec:
  rules:
    - http: {paths: [{path: /admin, pathType: Exact, backend: {service: {name: a, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: named, namespace: ns}
spec:
  rules:
    - host: b.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: b, port: {number: 80}}}}]}
`;
  const ings = await readIngresses([{ file: "in.yaml", text }], []);
  const docs = istioObjects(translate(ings), { gatewayName: "gw", gatewayNamespace: "istio-system", gatewaySelector: { istio: "ingressgateway" }, plugins: [] }, []) as Any[];
  const policy = docs.find((d) => d.kind === "AuthorizationPolicy");
  assert.deepEqual(policy.spec.rules[0].to, [{ operation: { notHosts: ["b.example.com", "b.example.com:*"], paths: ["/admin"] } }]);
  assert.deepEqual(checkAuthorizationPolicy(policy), []);
});

test("the AuthorizationPolicy check refuses what Istio would", () => {
  const good = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "p", namespace: "istio-system" },
    spec: { selector: { matchLabels: { istio: "ingressgateway" } }, action: "DENY", rules: [{ from: [{ source: { notRemoteIpBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { hosts: ["a.com", "a.com:*"], paths: ["/x", "/x/*"] } }] }] },
  };
  assert.deepEqual(checkAuthorizationPolicy(good), []);
  const bad = (f: (p: Any) => void) => {
    const p = structuredClone(good) as Any;
    f(p);
    return checkAuthorizationPolicy(p);
  };
  assert.match(bad((p) => (p.spec.rules[0].from[0].source.notRemoteIpBlocks = ["10.0.0.0/40"])).join(), /notRemoteIpBlocks must be a non-empty list of IPs or CIDRs/);
  assert.match(bad((p) => (p.spec.rules[0].to[0].operation.paths = ["/a*b"])).join(), /paths must be a non-empty list/);
  assert.match(bad((p) => (p.spec.action = "REJECT")).join(), /spec.action must be/);
  assert.match(bad((p) => (p.spec.selector.matchLabels = {})).join(), /matchLabels/);
  assert.match(bad((p) => (p.metadata.name = "A_b")).join(), /DNS names/);
});
