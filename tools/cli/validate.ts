import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "validate",
  summary: "validate (not built yet)",
  usage: "validate",
  options: {},
  async run() {
    throw new CliError("'tollgate validate' is not built yet");
  },
};
export default command;
