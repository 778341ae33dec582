import { relative } from "node:path";
import { pluginWasm, projectRoot } from "../paths.ts";
import { type Command, str } from "./args.ts";
import { readConfigFile } from "./config-file.ts";
import { UsageError } from "./errors.ts";

const command: Command = {
  name: "validate",
  summary: "Check a plugin config: the schema in plugin.json, then the plugin's own on_configure in the embedded host.",
  usage: "validate <plugin> <config.json|config.yaml> [--debug]",
  description: `
1. The config is checked against plugins/<plugin>/plugin.json's JSON Schema; every error names its JSON path.
2. dist/plugins/<plugin>.wasm is loaded in the embedded proxy-wasm host and configured with the config exactly
   as Envoy would pass a WasmPlugin's pluginConfig (the code Envoy runs); its verdict and log are printed.
Exits 0 only when both accept the config. The config is the plugin's JSON (WasmPlugin pluginConfig), with
Higress-style _rules_ for per-route/domain/service settings.`,
  options: {
    debug: { type: "boolean", description: "load the debug build (<plugin>.debug.wasm)", default: false },
    wasm: { type: "string", description: "load this .wasm instead of dist/plugins/<plugin>.wasm", valueName: "file" },
  },
  async run(args) {
    const [plugin, file, ...extra] = args.positionals;
    if (!plugin || !file || extra.length) throw new UsageError("expected <plugin> <config file>", "e.g. tollgate validate cors cors.json");
    const { assertBuilt, checkConfig, loadPluginMeta, pluginVerdict } = await import("../plugins/index.ts");
    const meta = loadPluginMeta(plugin);
    const config = await readConfigFile(file);
    const wasm = str(args.values.wasm) ?? pluginWasm(plugin, args.values.debug === true);
    assertBuilt(wasm, plugin);

    const schemaErrors = checkConfig(plugin, config);
    if (schemaErrors.length === 0) console.log(`ok    schema: ${file} matches ${meta.file}`);
    else {
      console.log(`FAIL  schema: ${file} does not match ${meta.file}:`);
      for (const e of schemaErrors) console.log(`        ${file}: ${e}`);
    }
    const verdict = await pluginVerdict(wasm, plugin, config);
    const rel = relative(projectRoot(), wasm) || wasm;
    if (verdict.accepted) console.log(`ok    plugin: ${rel} accepted the config (on_configure returned true)`);
    else console.log(`FAIL  plugin: ${rel} rejected the config at ${verdict.phase}: ${verdict.message}`);
    for (const l of verdict.logs) console.log(`        [${l.levelName}] ${l.message}`);

    const schemaOk = schemaErrors.length === 0;
    if (schemaOk && verdict.accepted) return 0;
    // A rule JSON Schema cannot express (unique names, key material, cross-field needs) is declared in the
    // plugin.json's x-semantic-rules with the log line it produces: that is the plugin doing its job, not a
    // disagreement.
    const semantic = schemaOk && !verdict.accepted
      ? (meta["x-semantic-rules"] ?? []).find((r) => verdict.logs.some((l) => new RegExp(r.log).test(l.message)))
      : undefined;
    if (semantic) {
      console.log(`note: ${semantic.rule} — checked by the plugin only (a rule JSON Schema cannot express; ${meta.file} x-semantic-rules)`);
    } else if (schemaOk !== verdict.accepted) {
      console.log(`note: the schema and the plugin disagree on this config — a bug in ${meta.file} or in plugins/${plugin}/ (please report it)`);
    }
    console.error(`error: ${file} is not a valid ${plugin} config\n  fix: change the fields named above${schemaOk ? "" : `; the schema is ${meta.file}`}`);
    return 1;
  },
};
export default command;
