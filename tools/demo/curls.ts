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
  { plugin: "gateway", title: "default route → the stable echo upstream (\"upstream\": \"stable\")", curl: `curl -s ${DEMO_LISTENER}/hello` },
  { plugin: "gateway", title: "header route x-canary-version: v2 → canary, but only as the canary plugin decides: a client-sent tag is replaced, so alice (sticky stable) stays on stable", curl: `curl -s -H 'x-canary-version: v2' -H 'x-user-id: alice' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "override x-canary: always → \"upstream\": \"canary\" (never → stable)", curl: `curl -s -H 'x-canary: always' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "header rule x-beta: true → canary", curl: `curl -s -H 'x-beta: true' ${DEMO_LISTENER}/hello` },
  { plugin: "canary", title: "sticky 30% by x-user-id: dave always lands on canary, alice on stable", curl: `for u in dave alice dave alice; do curl -s -H "x-user-id: $u" ${DEMO_LISTENER}/hello | grep '"upstream"'; done` },
  { plugin: "canary", title: "anonymous: a 30% draw, pinned by Set-Cookie canary_pin", curl: `curl -si ${DEMO_LISTENER}/hello | grep -i -e '^set-cookie' -e '"upstream"'` },
  { plugin: "rate-limit", title: "5 per minute per x-api-key: 200 ×5, then 429 with Retry-After (another key has its own bucket)", curl: `for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -H 'x-api-key: demo-key' ${DEMO_LISTENER}/hello; done; echo; curl -si -H 'x-api-key: demo-key' ${DEMO_LISTENER}/hello | grep -i -e '^HTTP' -e '^retry-after' -e '^x-ratelimit'` },
  { plugin: "gateway", title: "admin: readiness and stats (wasm metrics included)", curl: `curl -s ${DEMO_ADMIN}/ready && curl -s ${DEMO_ADMIN}/stats` },
];
