import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "push",
  summary: "push (not built yet)",
  usage: "push",
  options: {},
  async run() {
    throw new CliError("'tollgate push' is not built yet");
  },
};
export default command;
