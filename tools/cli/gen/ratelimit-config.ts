// gen ratelimit-config: the envoyproxy/ratelimit (Envoy's rate limit service) config for a rate-limit plugin
// config's global rules: domain, one descriptor per rule (or per listed value), unit and requests_per_unit.
import { list } from "../args.ts";
import { readConfigFile } from "../config-file.ts";
import { CliError, UsageError } from "../errors.ts";
import type { GenKind } from "./kind.ts";

const ratelimitConfig: GenKind = async (operands, v) => {
  const files = [...operands, ...list(v.config)];
  if (files.length !== 1) throw new UsageError("gen ratelimit-config needs exactly one rate-limit config file", "e.g. tollgate gen ratelimit-config rate-limit.json -o config.yaml");
  const config = await readConfigFile(files[0]);
  const { checkConfig } = await import("../../plugins/index.ts");
  const bad = checkConfig("rate-limit", config);
  if (bad.length) throw new CliError(`${files[0]}: not a valid rate-limit config:\n  ${bad.join("\n  ")}`, 1, "fix the fields above (tollgate validate rate-limit <file> explains more)");
  const { serviceConfig, RateLimitConfigError } = await import("../../ratelimit/config.ts");
  try {
    return { docs: [serviceConfig(config)], errors: [] };
  } catch (e) {
    if (e instanceof RateLimitConfigError) throw new CliError(`${files[0]}: ${e.message}`);
    throw e;
  }
};
export default ratelimitConfig;
