import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { pluginWasm, projectRoot } from "../paths.ts";
import { assertBuilt } from "../plugins/discover.ts";
import { type Command, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

const command: Command = {
  name: "push",
  summary: "Push a built plugin as an OCI image Istio's agent (and Higress) can load.",
  usage: "push <plugin> <registry>/<repo>:<tag> [--format compat|oci] [--plain-http] [--username <u> --password-stdin]",
  description: `
Packs dist/plugins/<plugin>.wasm (run 'tollgate build' first) deterministically — the same .wasm always gives
the same digest — and pushes it. Prints the manifest digest and the WasmPlugin lines to paste:
  url: oci://<ref>
  sha256: <manifest digest hex>   (for oci:// URLs Istio compares the manifest digest)
Formats: compat (default) = OCI manifest with one tar+gzip layer holding plugin.wasm, annotation
module.wasm.image/variant=compat; oci = the two-layer Wasm artifact (config + raw .wasm layer).
Credentials: --username with the password on stdin, else the docker config ($DOCKER_CONFIG/config.json or
~/.docker/config.json), else anonymous. Upload progress goes to stderr.`,
  options: {
    format: { type: "string", description: "image format: compat | oci", default: "compat", valueName: "format" },
    "plain-http": { type: "boolean", description: "talk HTTP, not HTTPS (local registries)", default: false },
    username: { type: "string", description: "registry user name (password from --password-stdin)", valueName: "user" },
    "password-stdin": { type: "boolean", description: "read the password (or token) from stdin", default: false },
    debug: { type: "boolean", description: "push the debug build (<plugin>.debug.wasm)", default: false },
    quiet: { type: "boolean", description: "no progress on stderr", default: false },
  },
  async run(args) {
    const [plugin, target, ...extra] = args.positionals;
    if (!plugin || !target || extra.length) throw new UsageError("expected <plugin> and <registry>/<repo>:<tag>", "e.g. tollgate push cors ghcr.io/acme/cors:1.0.0");
    const format = str(args.values.format) ?? "compat";
    if (format !== "compat" && format !== "oci") throw new UsageError(`--format must be compat or oci, got '${format}'`);
    const { parseReference, formatReference } = await import("../oci/reference.ts");
    const { packImage } = await import("../oci/image.ts");
    const { RegistryClient } = await import("../oci/registry.ts");
    const { credentialsFromDockerConfig } = await import("../oci/credentials.ts");
    let ref;
    try {
      ref = parseReference(target);
    } catch (e) {
      throw new UsageError((e as Error).message, "write <registry>/<repo>:<tag>, e.g. localhost:5000/tollgate/cors:1.0.0");
    }
    if (ref.digest && !ref.tag) throw new UsageError(`push needs a tag, not only a digest: '${target}'`);
    const wasmPath = pluginWasm(plugin, args.values.debug === true);
    const rel = relative(projectRoot(), wasmPath);
    assertBuilt(wasmPath, plugin);
    const username = str(args.values.username);
    let credentials = null;
    if (args.values["password-stdin"]) {
      if (!username) throw new UsageError("--password-stdin needs --username");
      const password = await readStdin();
      if (!password) throw new UsageError("--password-stdin: stdin was empty", "echo \"$PASSWORD\" | tollgate push … --username <user> --password-stdin");
      credentials = { username, password, source: `--username ${username} --password-stdin` };
    } else if (username) {
      throw new UsageError("--username needs --password-stdin (passwords are never taken as arguments)");
    } else {
      try {
        credentials = credentialsFromDockerConfig(ref.registry);
      } catch (e) {
        throw new CliError((e as Error).message, 1, "fix the docker config file or pass --username/--password-stdin");
      }
    }
    const image = packImage(readFileSync(wasmPath), { format, rootId: plugin });
    const progress = args.values.quiet ? undefined : (s: string) => process.stderr.write(`${s}\n`);
    progress?.(`pushing ${rel} (${format}) to ${formatReference(ref)}${credentials ? ` as ${credentials.username}` : ""}`);
    const client = new RegistryClient(ref, { plainHttp: args.values["plain-http"] === true, credentials, progress });
    const digest = await client.push(image);
    console.log(`digest: ${digest}`);
    console.log("WasmPlugin spec lines:");
    console.log(`  url: oci://${formatReference({ ...ref, digest: undefined })}`);
    console.log(`  sha256: ${digest.slice("sha256:".length)}`);
    console.log(`next: tollgate gen wasmplugin ${plugin} --url oci://${formatReference({ ...ref, digest: undefined })} --sha256 ${digest.slice("sha256:".length)} --config <file> | kubectl apply -f -`);
    return 0;
  },
};
export default command;
