// envoy.service.ratelimit.v3 messages through protobufjs over Envoy 1.40's own API descriptors
// (tools/envoy/api/envoy-api.json): the reference the rate-limit plugin's hand-written protobuf is held to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { repoRoot } from "../../../tools/paths.ts";

/**
 * The API JSON lists enum values by name; protobufjs takes an enum's first listed value as its default,
 * which must be the zero value (proto3), or it would drop e.g. overall_code OK (1) as "the default".
 */
function zeroFirst(node: any): any {
  if (node && typeof node === "object") {
    if (node.values && !node.fields) node.values = Object.fromEntries(Object.entries(node.values).sort((a: any, b: any) => a[1] - b[1]));
    for (const v of Object.values(node.nested ?? {})) zeroFirst(v);
  }
  return node;
}

const root = protobuf.Root.fromJSON(zeroFirst(JSON.parse(readFileSync(join(repoRoot(), "tools", "envoy", "api", "envoy-api.json"), "utf8"))));
export const RateLimitRequest = root.lookupType("envoy.service.ratelimit.v3.RateLimitRequest");
export const RateLimitResponse = root.lookupType("envoy.service.ratelimit.v3.RateLimitResponse");

/** protobufjs's encoding of a RateLimitResponse given as a plain object (snake_case fields). */
export function encodeResponse(obj: object): Uint8Array {
  return RateLimitResponse.encode(RateLimitResponse.fromObject(obj)).finish();
}

/** A RateLimitRequest's fields as a plain object. */
export function decodeRequest(bytes: Uint8Array): { domain: string; hits_addend: number; descriptors: Array<Array<[string, string]>> } {
  const o = RateLimitRequest.toObject(RateLimitRequest.decode(bytes), { defaults: true }) as any;
  return { domain: o.domain, hits_addend: o.hits_addend, descriptors: o.descriptors.map((d: any) => d.entries.map((e: any) => [e.key, e.value])) };
}
