// `npm run diff -- [--requests N] [--seed S] [--config name] [--json file]`: the long differential run
// (Envoy vs the embedded engine, tools/diff/run.ts). Exit 1 when a difference is not allowlisted.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { findEnvoy, isFound } from "../envoy/launcher.ts";
import { formatReport, runDiff } from "./run.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    seed: { type: "string", default: "20261207" },
    config: { type: "string", multiple: true },
    json: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(`npm run diff -- [options]
  --requests [number] requests per envoy-configs file, sent to both engines (default: 10000)
  --seed     [number] fast-check seed of the corpus (default: 20261207)
  --config   [string] only configs whose path contains this (repeatable; default: all)
  --json     [path]   also write the full report as JSON`);
  process.exit(0);
}
const envoy = findEnvoy(process.env);
if (!isFound(envoy)) {
  console.error(`Envoy is needed for the differential run: ${envoy.reason}`);
  process.exit(2);
}
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 1) {
  console.error(`--requests must be a positive integer, got ${values.requests}`);
  process.exit(2);
}
const reports = await runDiff({ requests, seed: Number(values.seed), configs: values.config, log: (l) => console.log(l) });
console.log(formatReport(reports));
if (values.json) writeFileSync(values.json, JSON.stringify(reports, null, 2));
const bad = reports.reduce((n, r) => n + r.unexplained, 0);
const total = reports.reduce((n, r) => n + r.sent, 0);
console.log(`\n${total} requests per engine over ${reports.length} configs; ${bad} with unexplained differences`);
process.exit(bad ? 1 : 0);
