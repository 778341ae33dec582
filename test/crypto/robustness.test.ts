// assembly/crypto on hostile and random input, through the compiled probe (release and debug):
// strict base64, key-loading policy, signature edge cases, and agreement with node:crypto on random
// data. A trap in the module surfaces here as a thrown WebAssembly.RuntimeError.
import assert from "node:assert/strict";
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { before, describe, it } from "node:test";
import { CryptoProbe } from "../../tools/bench/crypto-helpers.ts";

const N_P256 = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex");
const P_P256 = Buffer.from("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", "hex");
const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s % n;
  };
}

interface RsaFixture { bits: number; priv: KeyObject; jwk: { n: string; e: string } }
let rsaKeys: RsaFixture[] = [];
let oddRsaKeys: RsaFixture[] = [];
let ec: { priv: KeyObject; jwk: { x: string; y: string } };

before(() => {
  rsaKeys = [2048, 3072, 4096].map((bits) => {
    const k = generateKeyPairSync("rsa", { modulusLength: bits });
    return { bits, priv: k.privateKey, jwk: k.publicKey.export({ format: "jwk" }) as { n: string; e: string } };
  });
  // Limb counts (27/28-bit limbs) covering every remainder mod 4, for the blocked loops' tails.
  oddRsaKeys = [2080, 2152, 2200, 3000, 4000].map((bits) => {
    const k = generateKeyPairSync("rsa", { modulusLength: bits });
    return { bits, priv: k.privateKey, jwk: k.publicKey.export({ format: "jwk" }) as { n: string; e: string } };
  });
  const k = generateKeyPairSync("ec", { namedCurve: "P-256" });
  ec = { priv: k.privateKey, jwk: k.publicKey.export({ format: "jwk" }) as { x: string; y: string } };
});

for (const target of ["release", "debug"] as const) {
  describe(`crypto robustness (${target})`, () => {
    let p: CryptoProbe;
    before(async () => {
      p = await CryptoProbe.load(target);
    });

    it("base64 decoders reject every malformed form (RFC 4648 strict)", () => {
      const badStd = ["Zg", "Zg=", "Z===", "====", "Zm9v=", "Zm=v", "Zg==Zg==", "Zm9vYg=\u0000", " Zm9v", "Zm9v\n", "Zm9-", "Zm9_",
        "Zh==", "Zm9=", "éééé", "Zm9\uD83D", "A", "AB=C", "Zm9vYg=="+"=", "\u0100AAA"];
      for (const s of badStd) assert.equal(p.base64Decode(s), null, JSON.stringify(s));
      const badUrl = ["Zg==", "Zg=", "Z", "Zm9vY", "Zm9+", "Zm9/", "Zh", "Zm9", "Zm9v Yg", "Zm9v.Yg", "é", "\u0000"];
      for (const s of badUrl) assert.equal(p.base64Decode(s, true), null, JSON.stringify(s));
      assert.deepEqual(Buffer.from(p.base64Decode("", true)!), Buffer.alloc(0));
      assert.deepEqual(Buffer.from(p.base64Decode("-_8", true)!), Buffer.from([0xfb, 0xff]));
    });

    it("base64 round-trips random bytes and agrees with Buffer", () => {
      const r = rng(1);
      for (let len = 0; len < 300; len++) {
        const b = Buffer.from(Array.from({ length: len }, () => r(256)));
        const s = p.base64Encode(b);
        const u = p.base64Encode(b, true);
        assert.equal(s, b.toString("base64"));
        assert.equal(u, b.toString("base64url"));
        assert.deepEqual(Buffer.from(p.base64Decode(s)!), b);
        assert.deepEqual(Buffer.from(p.base64Decode(u, true)!), b);
      }
    });

    it("base64 decoders never trap on random strings and accept only what Buffer round-trips", () => {
      const r = rng(2);
      const alphabet = "ABCxyz019+/-_=\u0000 \u00e9\uD83D";
      for (let i = 0; i < 3000; i++) {
        const s = Array.from({ length: r(14) }, () => alphabet[r(alphabet.length)]).join("");
        for (const url of [false, true]) {
          const got = p.base64Decode(s, url);
          if (got !== null) assert.equal(Buffer.from(got).toString(url ? "base64url" : "base64"), s, JSON.stringify(s));
        }
      }
    });

    it("SHA-256, SHA-1 and HMAC-SHA-256 agree with node:crypto on random input", () => {
      const r = rng(3);
      for (let len = 0; len < 260; len++) {
        const d = randomBytes(len);
        assert.equal(Buffer.from(p.sha256(d)).toString("hex"), createHash("sha256").update(d).digest("hex"));
        assert.equal(Buffer.from(p.sha1(d)).toString("hex"), createHash("sha1").update(d).digest("hex"));
        const key = randomBytes(r(200));
        assert.equal(Buffer.from(p.hmac(key, d)).toString("hex"), createHmac("sha256", key).update(d).digest("hex"));
      }
    });

    it("constantTimeEqual: equality, any differing byte, length mismatch", () => {
      const a = randomBytes(48);
      assert.equal(p.constantTimeEqual(a, Buffer.from(a)), true);
      assert.equal(p.constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0)), true);
      for (const i of [0, 1, 24, 47]) {
        const b = Buffer.from(a);
        b[i] ^= 0x80;
        assert.equal(p.constantTimeEqual(a, b), false, `byte ${i}`);
      }
      assert.equal(p.constantTimeEqual(a, a.subarray(0, 47)), false);
      assert.equal(p.constantTimeEqual(a.subarray(0, 47), a), false);
    });

    it("RSA key policy: 2048–4096 bits, odd modulus, odd e in [65537, 2^32)", () => {
      const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" }) as { n: string };
      assert.equal(p.rsaFromJwk(small.n, "AQAB"), -1, "1024-bit");
      const n2048 = Buffer.from(rsaKeys[0].jwk.n, "base64url");
      assert.ok(p.rsaFromJwk(rsaKeys[0].jwk.n, "AQAB") >= 0);
      assert.ok(p.rsaFromBytes(Buffer.concat([Buffer.alloc(3), n2048]), Buffer.from([0, 1, 0, 1])) >= 0, "leading zeros");
      const even = Buffer.from(n2048);
      even[even.length - 1] &= 0xfe;
      assert.equal(p.rsaFromBytes(even, Buffer.from([1, 0, 1])), -1, "even modulus");
      const big = Buffer.concat([Buffer.from([1]), randomBytes(512)]); // 4097 bits
      big[big.length - 1] |= 1;
      assert.equal(p.rsaFromBytes(big, Buffer.from([1, 0, 1])), -1, "4097 bits");
      const b2047 = Buffer.from(n2048);
      b2047[0] = 0x7f;
      assert.equal(p.rsaFromBytes(b2047, Buffer.from([1, 0, 1])), -1, "2047 bits");
      for (const e of [[], [0], [1], [3], [0x01, 0x00, 0x00], [0x01, 0x00, 0x02], [1, 0, 0, 0, 1]]) {
        assert.equal(p.rsaFromBytes(n2048, Buffer.from(e)), -1, `e = ${Buffer.from(e).toString("hex")}`);
      }
      assert.ok(p.rsaFromBytes(n2048, Buffer.from([0xff, 0xff, 0xff, 0xff])) >= 0, "e = 2^32 − 1");
      for (const [n, e] of [["", "AQAB"], [rsaKeys[0].jwk.n, ""], [rsaKeys[0].jwk.n + "=", "AQAB"], ["@@@@", "AQAB"], [rsaKeys[0].jwk.n, "AQAB="]]) {
        assert.equal(p.rsaFromJwk(n, e), -1, `${n.slice(0, 8)} / ${e}`);
      }
    });

    it("RS256: node-signed messages verify; tampering, wrong lengths and s ≥ n fail", () => {
      const r = rng(4);
      for (const k of rsaKeys) {
        const h = p.rsaFromJwk(k.jwk.n, k.jwk.e);
        assert.equal(p.rsaBits(h), k.bits);
        const n = Buffer.from(k.jwk.n, "base64url");
        for (let i = 0; i < 4; i++) {
          const msg = randomBytes(r(300));
          const sig = sign("sha256", msg, k.priv);
          assert.equal(p.rsaVerify(h, msg, sig), true, `${k.bits} valid`);
          const bad = Buffer.from(sig);
          bad[r(bad.length)] ^= 1 << r(8);
          assert.equal(p.rsaVerify(h, msg, bad), false, `${k.bits} flipped bit`);
          assert.equal(p.rsaVerify(h, Buffer.concat([msg, Buffer.from([0])]), sig), false, `${k.bits} other message`);
          assert.equal(p.rsaVerify(h, msg, sig.subarray(1)), false, "short signature");
          assert.equal(p.rsaVerify(h, msg, Buffer.concat([Buffer.alloc(1), sig])), false, "long signature");
        }
        assert.equal(p.rsaVerify(h, "m", n), false, "s = n");
        assert.equal(p.rsaVerify(h, "m", Buffer.alloc(n.length, 0xff)), false, "s > n");
        assert.equal(p.rsaVerify(h, "m", Buffer.alloc(n.length)), false, "s = 0");
        assert.equal(p.rsaVerify(h, "m", Buffer.alloc(0)), false, "empty");
        for (let i = 0; i < 5; i++) assert.equal(p.rsaVerify(h, "m", randomBytes(n.length)), false, "garbage");
      }
    });

    it("RS256 across limb counts: odd key sizes verify and reject like node:crypto", () => {
      for (const { bits, priv, jwk } of oddRsaKeys) {
        const h = p.rsaFromJwk(jwk.n, jwk.e);
        assert.equal(p.rsaBits(h), bits);
        for (let i = 0; i < 3; i++) {
          const msg = randomBytes(40 + i);
          const sig = sign("sha256", msg, priv);
          assert.equal(p.rsaVerify(h, msg, sig), true, `${bits}-bit valid`);
          sig[sig.length - 1 - i] ^= 0x10;
          assert.equal(p.rsaVerify(h, msg, sig), false, `${bits}-bit tampered`);
        }
      }
    });

    it("P-256 field arithmetic (generated code) agrees with BigInt, including values near p", () => {
      const P = BigInt("0x" + P_P256.toString("hex"));
      const le = (x: bigint) => Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse();
      const fromLe = (b: Uint8Array) => BigInt("0x" + Buffer.from(b).reverse().toString("hex"));
      const edge = [0n, 1n, 2n, P - 1n, P - 2n, (1n << 255n) % P, (1n << 224n) - 1n, P >> 1n];
      const rand = () => BigInt("0x" + randomBytes(32).toString("hex")) % P;
      const values = [...edge, ...Array.from({ length: 150 }, rand)];
      for (let i = 0; i < values.length; i++) {
        const a = values[i], b = values[(i * 7 + 3) % values.length];
        const want = [(a * b) % P, (a * a) % P, (a + b) % P, (((a - b) % P) + P) % P];
        for (let op = 0; op < 4; op++) assert.equal(fromLe(p.field(op, le(a), le(b))), want[op], `op ${op} a=${a} b=${b}`);
      }
    });

    it("P-256 key policy: 32-byte coordinates < p, on the curve", () => {
      assert.ok(p.ecFromJwk(ec.jwk.x, ec.jwk.y) >= 0);
      const x = Buffer.from(ec.jwk.x, "base64url");
      const y = Buffer.from(ec.jwk.y, "base64url");
      const yBad = Buffer.from(y);
      yBad[31] ^= 1;
      const cases: Array<[string, string, string]> = [
        [b64u(x), b64u(yBad), "off the curve"],
        [b64u(x.subarray(1)), b64u(y), "31-byte x"],
        [b64u(Buffer.concat([Buffer.alloc(1), x])), b64u(y), "33-byte x"],
        [b64u(Buffer.alloc(32)), b64u(Buffer.alloc(32)), "(0, 0)"],
        [b64u(P_P256), b64u(y), "x = p"],
        [b64u(x), b64u(Buffer.alloc(32, 0xff)), "y > p"],
        [ec.jwk.x + "=", ec.jwk.y, "padding"],
        ["", "", "empty"],
      ];
      for (const [cx, cy, why] of cases) assert.equal(p.ecFromJwk(cx, cy), -1, why);
      assert.ok(p.ecFromUncompressed(Buffer.concat([Buffer.from([4]), x, y])) >= 0);
      assert.equal(p.ecFromUncompressed(Buffer.concat([Buffer.from([2]), x, y])), -1, "prefix 02");
      assert.equal(p.ecFromUncompressed(Buffer.concat([Buffer.from([4]), x])), -1, "33 bytes");
      assert.equal(p.ecFromUncompressed(Buffer.alloc(0)), -1, "empty");
    });

    it("ES256: node-signed messages verify; r, s out of [1, n−1], wrong lengths and garbage fail", () => {
      const r = rng(5);
      const h = p.ecFromJwk(ec.jwk.x, ec.jwk.y);
      for (let i = 0; i < 12; i++) {
        const msg = randomBytes(r(300));
        const sig = sign("sha256", msg, { key: ec.priv, dsaEncoding: "ieee-p1363" });
        assert.equal(p.ecVerify(h, msg, sig), true, "valid");
        // (r, n − s) is the other valid signature (ECDSA malleability; JWS does not forbid it).
        const sNeg = (BigInt("0x" + N_P256.toString("hex")) - BigInt("0x" + sig.subarray(32).toString("hex"))).toString(16).padStart(64, "0");
        assert.equal(p.ecVerify(h, msg, Buffer.concat([sig.subarray(0, 32), Buffer.from(sNeg, "hex")])), true, "n − s");
        const bad = Buffer.from(sig);
        bad[r(64)] ^= 1 << r(8);
        assert.equal(p.ecVerify(h, msg, bad), false, "flipped bit");
        assert.equal(p.ecVerify(h, Buffer.concat([msg, Buffer.from([1])]), sig), false, "other message");
        assert.equal(p.ecVerify(h, msg, sig.subarray(0, 63)), false, "63 bytes");
        assert.equal(p.ecVerify(h, msg, Buffer.concat([sig, Buffer.alloc(1)])), false, "65 bytes");
      }
      const msg = Buffer.from("m");
      const sig = sign("sha256", msg, { key: ec.priv, dsaEncoding: "ieee-p1363" });
      const R = sig.subarray(0, 32), S = sig.subarray(32);
      for (const [rr, ss, why] of [
        [Buffer.alloc(32), S, "r = 0"], [R, Buffer.alloc(32), "s = 0"], [N_P256, S, "r = n"], [R, N_P256, "s = n"],
        [Buffer.alloc(32, 0xff), S, "r > n"], [R, Buffer.alloc(32, 0xff), "s > n"],
      ] as Array<[Buffer, Buffer, string]>) {
        assert.equal(p.ecVerify(h, msg, Buffer.concat([rr, ss])), false, why);
      }
      assert.equal(p.ecVerify(h, msg, Buffer.alloc(0)), false, "empty");
      for (let i = 0; i < 20; i++) assert.equal(p.ecVerify(h, msg, randomBytes(64)), false, "garbage");
    });

    it("key loaders never trap on random input", () => {
      const r = rng(6);
      const chars = "AQBZaz09-_=+/ é";
      const rs = (n: number) => Array.from({ length: n }, () => chars[r(chars.length)]).join("");
      for (let i = 0; i < 300; i++) {
        const len = [0, 1, 31, 32, 33, 255, 256, 257, 384, 512, 513][r(11)];
        const n = randomBytes(len);
        if (r(2) === 0 && len > 0) n[0] |= 0x80;
        n[Math.max(0, len - 1)] |= r(2);
        p.rsaFromBytes(n, randomBytes(r(6)));
        p.rsaFromJwk(rs(r(400)), rs(r(6)));
        p.ecFromJwk(rs(r(50)), rs(r(50)));
        p.ecFromJwk(b64u(randomBytes(32)), b64u(randomBytes(32)));
        const u = randomBytes(r(2) ? 65 : r(70));
        if (u.length > 0) u[0] = 4;
        p.ecFromUncompressed(u);
      }
    });

    it("nothing was logged (no abort)", () => {
      assert.deepEqual(p.logs, []);
    });
  });
}
