import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "up",
  summary: "up (not built yet)",
  usage: "up",
  options: {},
  async run() {
    throw new CliError("'tollgate up' is not built yet");
  },
};
export default command;
