// Shared helpers for the auth plugin tests: the compiled module (release and debug), the host's
// PluginTester, the shared vectors, and token signing with node:crypto (OpenSSL) as the reference.
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../../tools/paths.ts";
import { PluginTester } from "../../../tools/host/testing.ts";

import { type Build, compiledPlugin } from "../../helpers/plugins.ts";
export { BUILDS, type Build } from "../../helpers/plugins.ts";

/** The auth module for `build`, compiled from plugins/auth (cached by input hash). */
export function authWasm(build: Build): Promise<string> {
  return compiledPlugin("auth", build);
}

/** A request on route `route` (the route_name attribute Envoy serves, abi.md §6.3). */
export function onRoute(route: string, headers: Array<[string, string]> = [], path = "/x") {
  return req(headers, path, { properties: { route_name: route } });
}

type LoadOptions = Omit<Parameters<typeof PluginTester.load>[0], "wasm">;

/** A configured tester; fails the test with the plugin's log when configuration was rejected. */
export async function tester(build: Build, configuration: object, extra: Partial<LoadOptions> = {}): Promise<PluginTester> {
  const t = await PluginTester.load({ wasm: await authWasm(build), configuration, ...extra } as never);
  if (!t.configured) throw new Error(`auth rejected its configuration: ${t.logs.map((l) => l.message).join(" | ")}`);
  return t;
}

/** Loads a configuration expected to be rejected; returns the critical log lines. */
export async function rejected(build: Build, configuration: object | string): Promise<string> {
  const t = await PluginTester.load({ wasm: await authWasm(build), configuration } as never);
  if (t.configured) throw new Error("configuration was accepted");
  return t.logsAt("critical").join("\n");
}

export function vectors(name: string): any {
  return JSON.parse(readFileSync(join(repoRoot(), "test", "vectors", name), "utf8"));
}

// ---- JWT signing with node:crypto ----

export const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString("base64url");

export interface Keys {
  rsa: { privateKey: KeyObject; publicKey: KeyObject };
  ec: { privateKey: KeyObject; publicKey: KeyObject };
  hmac: Buffer;
  jwks: { keys: object[] };
}

let keys: Keys | undefined;

/** One RSA-2048, one P-256 and one 32-byte HMAC key, as a JWKS with kids r1, e1, h1. */
export function testKeys(): Keys {
  if (keys) return keys;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const hmac = Buffer.from("tollgate-test-hmac-secret-0123456789abcdef");
  keys = {
    rsa, ec, hmac,
    jwks: {
      keys: [
        { ...rsa.publicKey.export({ format: "jwk" }), kid: "r1", alg: "RS256", use: "sig" },
        { ...ec.publicKey.export({ format: "jwk" }), kid: "e1", alg: "ES256" },
        { kty: "oct", kid: "h1", alg: "HS256", k: b64u(hmac) },
      ],
    },
  };
  return keys;
}

export type Alg = "HS256" | "RS256" | "ES256";

/** A compact JWS over `payload` signed by the test key for `alg`; `header` adds or overrides members. */
export function signJwt(alg: Alg, payload: object, header: object = {}): string {
  const k = testKeys();
  const input = `${b64u(JSON.stringify({ alg, typ: "JWT", ...header }))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(signature(alg, input, k))}`;
}

export function signature(alg: Alg, input: string, k: Keys = testKeys()): Buffer {
  if (alg === "HS256") return createHmac("sha256", k.hmac).update(input).digest();
  if (alg === "RS256") return sign("sha256", Buffer.from(input), k.rsa.privateKey);
  return sign("sha256", Buffer.from(input), { key: k.ec.privateKey, dsaEncoding: "ieee-p1363" });
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A request with the usual pseudo-headers. */
export function req(headers: Array<[string, string]> = [], path = "/api", extra: Record<string, unknown> = {}) {
  return { method: "GET", path, authority: "api.example.com", scheme: "https", headers, ...extra };
}
