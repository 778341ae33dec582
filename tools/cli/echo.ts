import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "echo",
  summary: "echo (not built yet)",
  usage: "echo",
  options: {},
  async run() {
    throw new CliError("'tollgate echo' is not built yet");
  },
};
export default command;
