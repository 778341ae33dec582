// as-pect: unit tests of the shared AssemblyScript library (assembly/) in test/assembly/.
export default {
  entries: ["test/assembly/**/*.spec.ts"],
  include: ["test/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // Host calls that assembly/ code may import are inert here: unit tests cover pure logic only.
    const noop = () => 0;
    const env = new Proxy({ memory }, { get: (t, k) => (k in t ? t[k] : noop) });
    return instantiate(binary, createImports({ env, wasi_snapshot_preview1: new Proxy({}, { get: () => noop }) }));
  },
  outputBinary: false,
};
