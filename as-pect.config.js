// as-pect: unit tests of the shared AssemblyScript library (assembly/) in test/assembly/.
export default {
  entries: ["test/assembly/**/*.spec.ts", "plugins/*/*.spec.ts"],
  include: ["test/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // Host functions that assembly/ code imports answer NotFound (1) here: unit tests cover pure logic
    // only; behaviour against a host is tested on compiled plugins through tools/host.
    const stubs = { env: { memory } };
    for (const imp of WebAssembly.Module.imports(new WebAssembly.Module(binary))) {
      if (imp.kind !== "function" || imp.module === "__asCovers" || imp.module === "__aspect") continue;
      stubs[imp.module] ??= {};
      stubs[imp.module][imp.name] ??= () => 1;
    }
    return instantiate(binary, createImports(stubs));
  },
  outputBinary: false,
};
