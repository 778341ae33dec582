import type { Command } from "./args.ts";
import { str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

const command: Command = {
  name: "echo",
  summary: "Run an upstream that answers every request with the request it got, as JSON.",
  usage: "echo --port <n> [--name <name>] [--host <address>]",
  description: [
    "Reply body: {upstream, method, path, headers, body} (application/json), plus an x-echo-upstream header.",
    "Test hooks: '?status=N' answers with status N; '?delay_ms=N' waits N ms first (max 60000).",
    "Runs until Ctrl-C. The demo (`npm start`) runs two: stable on 18081 and canary on 18082.",
  ].join("\n"),
  options: {
    port: { type: "string", short: "p", description: "port to listen on (0 = any free port)", valueName: "n" },
    name: { type: "string", short: "n", description: "name reported as 'upstream' in replies", default: "echo", valueName: "name" },
    host: { type: "string", description: "address to bind", default: "127.0.0.1", valueName: "address" },
  },
  async run(args) {
    const portText = str(args.values.port);
    if (portText === undefined) throw new UsageError("missing --port", "e.g. tollgate echo --port 18081 --name stable");
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer 0-65535, got '${portText}'`);
    const { startEcho } = await import("../demo/echo.ts");
    const name = str(args.values.name) ?? "echo";
    let echo;
    try {
      echo = await startEcho({ name, port, host: str(args.values.host) });
    } catch (e) {
      throw new CliError(`cannot listen on ${str(args.values.host)}:${port}: ${(e as Error).message}`, 1, "pick another --port or stop the process using it");
    }
    console.log(`echo upstream '${name}' listening on ${echo.url}`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void echo.close().then(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    return 0;
  },
};
export default command;
