import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "start",
  summary: "start (not built yet)",
  usage: "start",
  options: {},
  async run() {
    throw new CliError("'tollgate start' is not built yet");
  },
};
export default command;
