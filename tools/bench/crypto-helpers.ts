// The crypto probe (test/fixtures/crypto-probe): a compiled module exporting assembly/crypto through
// raw exports, shared by the crypto vector tests and the native-comparison benchmark.
import { createHmac, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { compileAssemblyScript, type Target } from "../build/compile.ts";
import { repoRoot } from "../paths.ts";

interface ProbeExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  out(): number;
  alloc(n: number): number;
  free(p: number): void;
  t_sha256(p: number, n: number): number;
  t_sha1(p: number, n: number): number;
  t_hmac(kp: number, kn: number, dp: number, dn: number): number;
  t_b64dec(p: number, n: number, url: boolean): number;
  t_b64enc(p: number, n: number, url: boolean): number;
  t_cteq(ap: number, an: number, bp: number, bn: number): number;
  t_rsaJwk(np: number, nn: number, ep: number, en: number): number;
  t_rsaBytes(np: number, nn: number, ep: number, en: number): number;
  t_rsaBytesE3(np: number, nn: number, ep: number, en: number): number;
  t_rsaBits(h: number): number;
  t_rsaVerify(h: number, mp: number, mn: number, sp: number, sn: number): number;
  t_ecJwk(xp: number, xn: number, yp: number, yn: number): number;
  t_ecUncompressed(p: number, n: number): number;
  t_ecVerify(h: number, mp: number, mn: number, sp: number, sn: number): number;
  t_field(op: number, a: number, b: number): void;
  b_hmacVerify(kp: number, kn: number, dp: number, dn: number, tp: number, iters: number): number;
  b_rsaVerify(h: number, mp: number, mn: number, sp: number, sn: number, iters: number): number;
  b_ecVerify(h: number, mp: number, mn: number, sp: number, sn: number, iters: number): number;
}

type Bytes = Uint8Array | string;

/** Typed access to the probe: byte arguments are copied in, results copied out. */
export class CryptoProbe {
  readonly logs: string[] = [];
  private x!: ProbeExports;

  static async load(target: Target): Promise<CryptoProbe> {
    const root = repoRoot();
    const out = join(root, "dist", "fixtures", target === "debug" ? "crypto-probe.debug.wasm" : "crypto-probe.wasm");
    const { readFile } = await import("node:fs/promises");
    // Test files run in parallel processes and may compile the same output at once: retry until the
    // file read back is a complete module.
    let bytes = new Uint8Array(0);
    for (let attempt = 0; ; attempt++) {
      await compileAssemblyScript(join(root, "test", "fixtures", "crypto-probe", "index.ts"), out, target);
      bytes = await readFile(out);
      if (WebAssembly.validate(bytes) || attempt === 5) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const probe = new CryptoProbe();
    const mod = await WebAssembly.compile(bytes);
    const env = {
      proxy_log: (_level: number, ptr: number, len: number) => {
        probe.logs.push(Buffer.from(probe.x.memory.buffer, ptr, len).toString("utf8"));
        return 0;
      },
    };
    const inst = await WebAssembly.instantiate(mod, { env });
    probe.x = inst.exports as unknown as ProbeExports;
    probe.x._initialize();
    return probe;
  }

  /** Runs `fn` with each argument copied into guest memory as (ptr, len) pairs; frees afterwards. */
  private with<T>(args: Bytes[], fn: (...pl: number[]) => T): T {
    const ptrs: number[] = [];
    const pl: number[] = [];
    for (const a of args) {
      const b = typeof a === "string" ? Buffer.from(a, "utf8") : a;
      const p = this.x.alloc(Math.max(1, b.length));
      new Uint8Array(this.x.memory.buffer, p, b.length).set(b);
      ptrs.push(p);
      pl.push(p, b.length);
    }
    try {
      return fn(...pl);
    } finally {
      for (const p of ptrs) this.x.free(p);
    }
  }

  private result(n: number): Uint8Array | null {
    if (n < 0) return null;
    return new Uint8Array(this.x.memory.buffer, this.x.out(), n).slice();
  }

  sha256(d: Bytes): Uint8Array { return this.result(this.with([d], (p, n) => this.x.t_sha256(p, n)))!; }
  sha1(d: Bytes): Uint8Array { return this.result(this.with([d], (p, n) => this.x.t_sha1(p, n)))!; }
  hmac(k: Bytes, d: Bytes): Uint8Array {
    return this.result(this.with([k, d], (kp, kn, dp, dn) => this.x.t_hmac(kp, kn, dp, dn)))!;
  }
  base64Decode(s: string, url = false): Uint8Array | null {
    return this.result(this.with([s], (p, n) => this.x.t_b64dec(p, n, url)));
  }
  base64Encode(b: Uint8Array, url = false): string {
    return Buffer.from(this.result(this.with([b], (p, n) => this.x.t_b64enc(p, n, url)))!).toString("latin1");
  }
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
    return this.with([a, b], (ap, an, bp, bn) => this.x.t_cteq(ap, an, bp, bn)) !== 0;
  }
  /** Key handle or -1 (rejected). */
  rsaFromJwk(n: string, e: string): number { return this.with([n, e], (a, b, c, d) => this.x.t_rsaJwk(a, b, c, d)); }
  rsaFromBytes(n: Uint8Array, e: Uint8Array): number { return this.with([n, e], (a, b, c, d) => this.x.t_rsaBytes(a, b, c, d)); }
  /** Like rsaFromBytes but accepting e = 3 (test vectors only). */
  rsaFromBytesE3(n: Uint8Array, e: Uint8Array): number { return this.with([n, e], (a, b, c, d) => this.x.t_rsaBytesE3(a, b, c, d)); }
  rsaBits(h: number): number { return this.x.t_rsaBits(h); }
  rsaVerify(h: number, msg: Bytes, sig: Uint8Array): boolean {
    return this.with([msg, sig], (a, b, c, d) => this.x.t_rsaVerify(h, a, b, c, d)) !== 0;
  }
  ecFromJwk(x: string, y: string): number { return this.with([x, y], (a, b, c, d) => this.x.t_ecJwk(a, b, c, d)); }
  ecFromUncompressed(b: Uint8Array): number { return this.with([b], (p, n) => this.x.t_ecUncompressed(p, n)); }
  ecVerify(h: number, msg: Bytes, sig: Uint8Array): boolean {
    return this.with([msg, sig], (a, b, c, d) => this.x.t_ecVerify(h, a, b, c, d)) !== 0;
  }
  /** P-256 field op on little-endian 32-byte operands: 0 mul, 1 sqr, 2 add, 3 sub. */
  field(op: number, a: Uint8Array, b: Uint8Array): Uint8Array {
    return this.with([a, b], (ap, _an, bp) => {
      this.x.t_field(op, ap, bp);
      return new Uint8Array(this.x.memory.buffer, this.x.out(), 32).slice();
    });
  }
  hmacVerifyLoop(k: Bytes, d: Bytes, tag: Uint8Array, iters: number): number {
    return this.with([k, d, tag], (kp, kn, dp, dn, tp) => this.x.b_hmacVerify(kp, kn, dp, dn, tp, iters));
  }
  rsaVerifyLoop(h: number, msg: Bytes, sig: Uint8Array, iters: number): number {
    return this.with([msg, sig], (a, b, c, d) => this.x.b_rsaVerify(h, a, b, c, d, iters));
  }
  ecVerifyLoop(h: number, msg: Bytes, sig: Uint8Array, iters: number): number {
    return this.with([msg, sig], (a, b, c, d) => this.x.b_ecVerify(h, a, b, c, d, iters));
  }
}

/**
 * ns per operation of `wasm` and `native`, measured alternately in rounds of `batch` calls; the minimum
 * over rounds of the process CPU time (not wall time) per call, so other load on a shared machine
 * inflates neither side.
 */
export function comparePerOp(wasm: (n: number) => void, native: (n: number) => void, rounds: number, batch: number): { wasmNs: number; nativeNs: number; ratio: number } {
  const cpuNs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  };
  wasm(batch); // warm up: JIT tiers, lazily built tables
  native(batch);
  let w = Infinity;
  let n = Infinity;
  for (let r = 0; r < rounds; r++) {
    let t = cpuNs();
    wasm(batch);
    w = Math.min(w, (cpuNs() - t) / batch);
    t = cpuNs();
    native(batch);
    n = Math.min(n, (cpuNs() - t) / batch);
  }
  return { wasmNs: Math.round(w), nativeNs: Math.round(n), ratio: +(w / n).toFixed(2) };
}

export interface CryptoVsNative {
  hs256: { wasmNs: number; nativeNs: number; ratio: number };
  rs256: { wasmNs: number; nativeNs: number; ratio: number };
  es256: { wasmNs: number; nativeNs: number; ratio: number };
}

/**
 * Verify cost in the probe (release build) vs node:crypto for the same JWS signing input and
 * signature: HS256 (32-byte secret), RS256 (2048-bit key from JWK), ES256 (P-256 key from JWK).
 * The probe's loops verify in wasm without crossing into JS per call; node verifies with a KeyObject
 * built from the same JWK. `rounds` × `batch` bounds the run time (default ≈ 1–2 s).
 */
export async function cryptoVsNative(rounds = 10, batch = 40): Promise<CryptoVsNative> {
  const probe = await CryptoProbe.load("release");
  const input = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIuZXhhbXBsZSIsImF1ZCI6ImFwaSIsImlhdCI6MTUxNjIzOTAyMn0";
  const msg = Buffer.from(input);
  const must = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${what} rejected a valid signature`);
  };

  const secret = Buffer.alloc(32, 0x5a);
  const tag = createHmac("sha256", secret).update(msg).digest();
  const hs256 = comparePerOp(
    (n) => must(probe.hmacVerifyLoop(secret, msg, tag, n * 20) === n * 20, "HS256 probe"),
    (n) => { for (let i = 0; i < n * 20; i++) must(createHmac("sha256", secret).update(msg).digest().equals(tag), "node HS256"); },
    rounds, batch,
  );

  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const rsaJwk = rsa.publicKey.export({ format: "jwk" }) as { n: string; e: string };
  const rsaKey: KeyObject = createPublicKey({ key: rsaJwk, format: "jwk" });
  const rsaSig = sign("sha256", msg, rsa.privateKey);
  const rh = probe.rsaFromJwk(rsaJwk.n, rsaJwk.e);
  const rs256 = comparePerOp(
    (n) => must(probe.rsaVerifyLoop(rh, msg, rsaSig, n) === n, "RS256 probe"),
    (n) => { for (let i = 0; i < n; i++) must(verify("sha256", msg, rsaKey, rsaSig), "node RS256"); },
    rounds, batch,
  );

  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ecJwk = ec.publicKey.export({ format: "jwk" }) as { x: string; y: string };
  const ecKey = createPublicKey({ key: ecJwk, format: "jwk" });
  const ecSig = sign("sha256", msg, { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
  const eh = probe.ecFromJwk(ecJwk.x, ecJwk.y);
  const es256 = comparePerOp(
    (n) => must(probe.ecVerifyLoop(eh, msg, ecSig, n) === n, "ES256 probe"),
    (n) => { for (let i = 0; i < n; i++) must(verify("sha256", msg, { key: ecKey, dsaEncoding: "ieee-p1363" }, ecSig), "node ES256"); },
    rounds, batch,
  );
  // HS256 batches are 20× larger (µs-scale ops); per-op figures are per verification.
  hs256.wasmNs = Math.round(hs256.wasmNs / 20);
  hs256.nativeNs = Math.round(hs256.nativeNs / 20);
  return { hs256, rs256, es256 };
}

/**
 * `tollgate bench` section shape (register as a "top" section named "crypto" in tools/bench/index.ts):
 * the crypto primitives alone, probe vs node:crypto. The auth section measures the same through the plugin.
 */
export async function bench(_ctx: unknown): Promise<Record<string, unknown>> {
  const r = await cryptoVsNative();
  return {
    hs256VsNative: r.hs256.ratio,
    rs256VsNative: r.rs256.ratio,
    es256VsNative: r.es256.ratio,
    ns: r,
    method: "verify of one JWS signing input + signature in the release crypto probe (loop inside wasm) vs node:crypto with a KeyObject from the same JWK; min CPU time per op over alternating rounds",
  };
}
