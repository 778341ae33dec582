// `npm run fuzz [-- --requests N --configs N --seed S --minutes M plugin...]`: the long fuzz run.
// Defaults: 1,000,000 requests and 20,000 random configs per plugin, at most 20 minutes per plugin.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { pluginWasm } from "../paths.ts";
import { fuzzPlugin } from "./run.ts";
import { FUZZED_PLUGINS } from "./profiles.ts";

const { values, positionals } = parseArgs({
  options: {
    requests: { type: "string", default: "1000000" },
    configs: { type: "string", default: "20000" },
    seed: { type: "string" },
    minutes: { type: "string", default: "20" },
    debug: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const seed = values.seed ? Number(values.seed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const plugins = positionals.length ? positionals : FUZZED_PLUGINS.filter((p) => existsSync(pluginWasm(p)));
console.log(`fuzz seed ${seed} — reproduce with: npm run fuzz -- --seed ${seed} ${plugins.join(" ")}`);
let failed = false;
for (const name of plugins) {
  try {
    const r = await fuzzPlugin(name, {
      requests: Number(values.requests),
      configs: Number(values.configs),
      seed,
      timeLimitMs: Number(values.minutes) * 60_000,
      debug: values.debug,
    });
    console.log(
      `${name}: ${r.requests} requests (${r.exchanges} exchanges, ${r.sequences} callback sequences), ` +
        `${r.configsChecked} configs (${r.configsAccepted} accepted, ${r.configsRejected} rejected, ${r.configsSemantic} of those by a declared semantic rule; ` +
        `schema and plugin agreed on all), ${(r.ms / 1000).toFixed(1)} s`,
    );
    for (const [k, n] of Object.entries(r.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(9)}  ${k}`);
  } catch (e) {
    failed = true;
    console.error(`${name}: FAILED\n${(e as Error).message}`);
  }
}
process.exitCode = failed ? 1 : 0;
