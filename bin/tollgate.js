#!/usr/bin/env node
// Launcher: runs the bundled CLI, bundling it first when lib/ is missing (e.g. install scripts disabled).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = join(root, "lib", "tollgate.js");
if (!existsSync(bundle)) await import(pathToFileURL(join(root, "tools", "bundle.mjs")).href);
await import(pathToFileURL(bundle).href);
