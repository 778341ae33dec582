// The ready-to-paste curl commands `npm start` prints for the demo (envoy-configs/demo.yaml: listener
// 127.0.0.1:10000, admin 127.0.0.1:9901, echo upstreams stable and canary). Each plugin adds its own
// entries here (one line each; keep them working against demo.yaml).

export interface DemoCurl {
  /** Which part of the demo it shows: "gateway" or a plugin name. */
  plugin: string;
  /** What to look for in the answer. */
  title: string;
  /** The command, copy-paste ready. */
  curl: string;
}

export const DEMO_LISTENER = "http://127.0.0.1:10000";
export const DEMO_ADMIN = "http://127.0.0.1:9901";

export const CURLS: DemoCurl[] = [
  { plugin: "gateway", title: "default route → the stable echo upstream (\"upstream\": \"stable\"; alice's sticky canary draw is stable, anonymous clients are drawn below)", curl: `curl -s -H 'x-user-id: alice' ${DEMO_LISTENER}/hello` },
  { plugin: "gateway", title: "header route x-canary-version: v2 → canary, but only as the canary plugin decides: a client-sent tag is replaced, so alice (sticky stable) stays on stable", curl: `curl -s -H 'x-canary-version: v2' -H 'x-user-id: alice' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "override x-canary: always → \"upstream\": \"canary\" (never → stable)", curl: `curl -s -H 'x-canary: always' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "header rule x-beta: true → canary", curl: `curl -s -H 'x-beta: true' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "sticky 30% by x-user-id: dave always lands on canary, alice on stable", curl: `for u in dave alice dave alice; do curl -s -H "x-user-id: $u" ${DEMO_LISTENER}/hello | grep '"upstream"'; done` },
  { plugin: "canary", title: "anonymous: a 30% draw, pinned by Set-Cookie canary_pin", curl: `curl -si ${DEMO_LISTENER}/hello | grep -i -e '^set-cookie' -e '"upstream"'` },
  { plugin: "rate-limit", title: "5 per minute per x-client-id, shared by all workers: 200 ×5, then 429 with Retry-After and X-RateLimit-* (another client id has its own bucket)", curl: `for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -H 'x-client-id: demo' ${DEMO_LISTENER}/hello; done; echo; curl -si -H 'x-client-id: demo' ${DEMO_LISTENER}/hello | grep -i -e '^HTTP' -e '^retry-after' -e '^x-ratelimit'` },
  { plugin: "auth", title: "Host secure.example.com needs a consumer: 401 with Key and Basic challenges", curl: `curl -si -H 'Host: secure.example.com' ${DEMO_LISTENER}/hello | grep -i -e '^HTTP' -e '^www-authenticate'` },
  { plugin: "auth", title: "alice's API key → the upstream sees \"x-mse-consumer\": \"alice\" (a client-sent copy is replaced)", curl: `curl -s -H 'Host: secure.example.com' -H 'x-api-key: alice-demo-key' -H 'x-mse-consumer: root' ${DEMO_LISTENER}/hello | grep x-mse-consumer` },
  { plugin: "auth", title: "bob with Basic → \"x-mse-consumer\": \"bob\"; a wrong password is 401", curl: `curl -s -u bob:bob-password -H 'Host: secure.example.com' ${DEMO_LISTENER}/hello | grep x-mse-consumer; curl -s -o /dev/null -w '%{http_code}\\n' -u bob:nope -H 'Host: secure.example.com' ${DEMO_LISTENER}/hello` },
  { plugin: "cors", title: "preflight from an allowed origin → 204 from cors with access-control-allow-* (the upstream never sees it)", curl: `curl -si -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type' ${DEMO_LISTENER}/hello | grep -i -e '^HTTP' -e '^access-control' -e '^vary'` },
  { plugin: "cors", title: "cross-origin GET → access-control-allow-origin echoed with credentials; auth's 401 carries it too; a refused origin gets none", curl: `curl -si -H 'Origin: https://app.example.com' ${DEMO_LISTENER}/hello | grep -i '^access-control'; curl -si -H 'Host: secure.example.com' -H 'Origin: https://app.example.com' ${DEMO_LISTENER}/hello | grep -i -e '^HTTP' -e '^access-control-allow-origin'; curl -si -H 'Origin: https://evil.example' ${DEMO_LISTENER}/hello | grep -ic '^access-control'` },
  { plugin: "gateway", title: "admin: readiness and stats (wasm metrics included)", curl: `curl -s ${DEMO_ADMIN}/ready && curl -s ${DEMO_ADMIN}/stats` },
  { plugin: "gateway", title: "admin: every plugin's decisions as Prometheus scrapes them (plugins/README.md, Metrics)", curl: `curl -s ${DEMO_ADMIN}/stats/prometheus | grep '^tollgate_'` },
];
