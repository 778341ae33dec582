import { relative } from "node:path";
import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";
import { ENGINE_OPTIONS, engineArgs } from "./up.ts";

const command: Command = {
  name: "start",
  summary: "The demo: build the plugins, start the stable and canary echo upstreams and `tollgate up envoy-configs/demo.yaml`.",
  usage: "start [--engine auto|envoy|embedded] [--workers <n>]",
  description: [
    "Runs from the repository root (Wasm paths in envoy-configs/demo.yaml are relative to it) until Ctrl-C.",
    "Upstreams: stable on 127.0.0.1:18081, canary on 127.0.0.1:18082; gateway on 127.0.0.1:10000, admin on",
    "127.0.0.1:9901. Prints ready-to-paste curl commands for each plugin's behaviour once it serves.",
  ].join("\n"),
  options: ENGINE_OPTIONS,
  async run(args) {
    const { engine, workers } = engineArgs(args.values);
    const { repoRoot } = await import("../paths.ts");
    const { buildPlugins } = await import("../build/plugins.ts");
    const { startEcho } = await import("../demo/echo.ts");
    const { CURLS } = await import("../demo/curls.ts");
    const { runUp } = await import("./up.ts");
    // demo.yaml's Wasm paths are relative, resolved against the working directory like Envoy does.
    if (relative(process.cwd(), repoRoot()) !== "") {
      console.log(`(working directory: ${repoRoot()})`);
      process.chdir(repoRoot());
    }
    await buildPlugins([], { log: (l) => console.log(`build ${l}`) });
    const echoes = [];
    try {
      for (const [name, port] of [["stable", 18081], ["canary", 18082]] as const) {
        try {
          echoes.push(await startEcho({ name, port }));
        } catch (e) {
          throw new CliError(`cannot start the ${name} echo upstream on 127.0.0.1:${port}: ${(e as Error).message}`, 1, "stop whatever uses the port (another `npm start`?)");
        }
        console.log(`upstream ${name}: http://127.0.0.1:${port}`);
      }
      return await runUp({
        file: "envoy-configs/demo.yaml",
        engine,
        workers,
        onReady: () => {
          console.log("\nTry:");
          for (const c of CURLS) console.log(`  # ${c.plugin}: ${c.title}\n  ${c.curl}\n`);
        },
      });
    } finally {
      await Promise.all(echoes.map((e) => e.close()));
    }
  },
};
export default command;
