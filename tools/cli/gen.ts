import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "gen",
  summary: "gen (not built yet)",
  usage: "gen",
  options: {},
  async run() {
    throw new CliError("'tollgate gen' is not built yet");
  },
};
export default command;
