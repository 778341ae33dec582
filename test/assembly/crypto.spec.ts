import {
  sha256, sha1, hmacSha256, base64Decode, base64UrlDecode, base64Encode, base64UrlEncode, constantTimeEqual,
  RsaPublicKey, P256PublicKey, ecdsaP256Sha256Verify,
} from "../../assembly/crypto";

function ascii(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function hex(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    out += (v < 16 ? "0" : "") + v.toString(16);
  }
  return out;
}

describe("sha256 / sha1 / hmacSha256", () => {
  it("FIPS 180-2 'abc'", () => {
    expect(hex(sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha1(ascii("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
  it("RFC 4231 test case 2", () => {
    expect(hex(hmacSha256(ascii("Jefe"), ascii("what do ya want for nothing?"))))
      .toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
});

describe("base64", () => {
  it("round-trips RFC 4648 §10 and rejects malformed input", () => {
    expect(base64Encode(ascii("fooba"))).toBe("Zm9vYmE=");
    expect(base64UrlEncode(ascii("fooba"))).toBe("Zm9vYmE");
    expect(hex(base64Decode("Zm9vYmE=")!)).toBe(hex(ascii("fooba")));
    expect(hex(base64UrlDecode("-_8")!)).toBe("fbff");
    expect(base64Decode("Zm9vYmE")).toBeNull();
    expect(base64UrlDecode("Zm9vYmE=")).toBeNull();
    expect(base64UrlDecode("Zh")).toBeNull(); // non-zero pad bits
    expect(base64Decode("Zm9v\n")).toBeNull();
  });
});

describe("constantTimeEqual", () => {
  it("compares content and length", () => {
    expect(constantTimeEqual(ascii("abc"), ascii("abc"))).toBe(true);
    expect(constantTimeEqual(ascii("abc"), ascii("abd"))).toBe(false);
    expect(constantTimeEqual(ascii("abc"), ascii("ab"))).toBe(false);
  });
});

describe("key loading", () => {
  it("refuses small RSA moduli and exponents", () => {
    expect(RsaPublicKey.fromJwk("AQAB", "AQAB")).toBeNull();
    expect(RsaPublicKey.fromJwk("not base64!", "AQAB")).toBeNull();
  });
  it("loads the P-256 base point and refuses a point off the curve", () => {
    const gx = "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY";
    const gy = "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
    expect(P256PublicKey.fromJwk(gx, gy)).not.toBeNull();
    expect(P256PublicKey.fromJwk(gx, "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfQ")).toBeNull();
    const key = P256PublicKey.fromJwk(gx, gy)!;
    expect(ecdsaP256Sha256Verify(key, ascii("m"), new Uint8Array(64))).toBe(false);
  });
});
