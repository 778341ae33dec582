import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "bench",
  summary: "bench (not built yet)",
  usage: "bench",
  options: {},
  async run() {
    throw new CliError("'tollgate bench' is not built yet");
  },
};
export default command;
