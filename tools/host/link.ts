// Module checks Envoy's V8 engine makes before running a module (abi.md §1.1, §1.3, §1.6): the ABI
// version marker, every function import present in the host table with the exact signature, and the
// signatures of exported callbacks. Node's JS API does not expose import signatures, so this reads
// the module's type, import, function and export sections directly.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
export interface FuncType { params: ValType[]; results: ValType[] }
export interface ModuleImport { module: string; name: string; kind: "function" | "table" | "memory" | "global" | "tag"; type?: FuncType }
export interface ModuleExport { name: string; kind: "function" | "table" | "memory" | "global" | "tag"; type?: FuncType }
export interface ModuleInfo { imports: ModuleImport[]; exports: ModuleExport[] }

const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const KINDS = ["function", "table", "memory", "global", "tag"] as const;

/** Parses the sections of a wasm binary that name imports and exports with their function types. */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  let p = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  };
  const name = (): string => {
    const n = u32();
    const s = Buffer.from(bytes.buffer, bytes.byteOffset + p, n).toString("utf8");
    p += n;
    return s;
  };
  const limits = () => {
    const flag = u32();
    u32();
    if (flag & 1) u32();
  };
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("not a WebAssembly module (bad magic)");
  }
  const types: FuncType[] = [];
  const imports: ModuleImport[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const exportsRaw: Array<{ name: string; kind: number; index: number }> = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const form = bytes[p++];
        if (form !== 0x60) throw new Error(`unsupported type form 0x${form.toString(16)}`);
        const np = u32();
        const params: ValType[] = [];
        for (let j = 0; j < np; j++) params.push(VALTYPES[bytes[p++]]);
        const nr = u32();
        const results: ValType[] = [];
        for (let j = 0; j < nr; j++) results.push(VALTYPES[bytes[p++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const module = name();
        const field = name();
        const kind = bytes[p++];
        if (kind === 0) {
          const ti = u32();
          funcTypes.push(ti);
          imports.push({ module, name: field, kind: "function", type: types[ti] });
        } else if (kind === 1) {
          p++;
          limits();
          imports.push({ module, name: field, kind: "table" });
        } else if (kind === 2) {
          limits();
          imports.push({ module, name: field, kind: "memory" });
        } else if (kind === 3) {
          p += 2;
          imports.push({ module, name: field, kind: "global" });
        } else {
          p++;
          u32();
          imports.push({ module, name: field, kind: "tag" });
        }
      }
    } else if (id === 3) {
      const n = u32();
      for (let i = 0; i < n; i++) funcTypes.push(u32());
    } else if (id === 7) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const field = name();
        const kind = bytes[p++];
        exportsRaw.push({ name: field, kind, index: u32() });
      }
    }
    p = end;
  }
  const exports: ModuleExport[] = exportsRaw.map((e) => ({
    name: e.name,
    kind: KINDS[e.kind],
    type: e.kind === 0 ? types[funcTypes[e.index]] : undefined,
  }));
  return { imports, exports };
}

export function formatType(t: FuncType): string {
  return `${t.params.join(" ") || "void"} -> ${t.results.join(" ") || "void"}`;
}

export function sameType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((x, i) => x === b.params[i]) && a.results.every((x, i) => x === b.results[i]);
}

/** Shorthand for signature tables: "iii:i" = (i32, i32, i32) -> i32; "I" = i64; ":" = no result. */
export function sig(s: string): FuncType {
  const [p, r] = s.split(":");
  const t = (c: string): ValType => (c === "I" ? "i64" : "i32");
  return { params: [...p].map(t), results: [...(r ?? "")].map(t) };
}

export type AbiVersion = "0_1_0" | "0_2_0" | "0_2_1";

/** The first ABI marker export decides (abi.md §1.1). */
export function abiVersion(info: ModuleInfo): AbiVersion | null {
  for (const e of info.exports) {
    if (e.kind !== "function") continue;
    if (e.name === "proxy_abi_version_0_1_0") return "0_1_0";
    if (e.name === "proxy_abi_version_0_2_0") return "0_2_0";
    if (e.name === "proxy_abi_version_0_2_1") return "0_2_1";
  }
  return null;
}
