import type { Command } from "./args.ts";
import { CliError } from "./errors.ts";

const command: Command = {
  name: "docs",
  summary: "Regenerate the README config tables from plugins/<name>/plugin.json (--check: fail on drift).",
  usage: "docs [--check]",
  description: `
Writes each plugin's table (Name | Type | Required | Default | Description) into plugins/<name>/README.md between
<!-- config-table:start --> and <!-- config-table:end -->, and all of them into README.md between
<!-- config-tables:start --> and <!-- config-tables:end -->.`,
  options: {
    check: { type: "boolean", description: "write nothing; exit 1 if a table is out of date", default: false },
  },
  async run(args) {
    const { updateDocs } = await import("../docs/config-table.ts");
    const check = args.values.check === true;
    const res = updateDocs({ check });
    for (const f of res.updated) console.log(`updated: ${f}`);
    if (res.problems.length) throw new CliError(res.problems.join("\n       "), 1, "add the markers, then run 'tollgate docs'");
    if (res.drifted.length) throw new CliError(`config tables are out of date in: ${res.drifted.join(", ")}`, 1, "run 'tollgate docs' and commit the result");
    if (check) console.log("config tables are up to date");
    else if (!res.updated.length) console.log("config tables were already up to date");
    return 0;
  },
};
export default command;
