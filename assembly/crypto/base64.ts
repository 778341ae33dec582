// Strict base64 (RFC 4648 §4) and base64url (§5) codecs. Decoders return null on any character
// outside the alphabet, misplaced or missing padding, impossible lengths, and non-zero pad bits
// (§3.5 canonical encoding), so each byte string has exactly one accepted text form.

const STD: usize = memory.data<u8>([
  65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,
  97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,
  48,49,50,51,52,53,54,55,56,57,43,47,
]);
const URL: usize = memory.data<u8>([
  65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,
  97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,
  48,49,50,51,52,53,54,55,56,57,45,95,
]);

/** 6-bit value of UTF-16 code unit `c`, or -1. */
// @ts-ignore: decorator
@inline function sextet(c: u32, url: bool): i32 {
  if (c - 65 < 26) return <i32>(c - 65);
  if (c - 97 < 26) return <i32>(c - 71);
  if (c - 48 < 10) return <i32>(c + 4);
  if (url) {
    if (c == 45) return 62;
    if (c == 95) return 63;
  } else {
    if (c == 43) return 62;
    if (c == 47) return 63;
  }
  return -1;
}

function decode(s: string, url: bool): Uint8Array | null {
  const src = changetype<usize>(s);
  let n = s.length;
  if (!url) {
    if ((n & 3) != 0) return null;
    // Up to two '=' and only at the end.
    if (n > 0 && load<u16>(src + ((<usize>n - 1) << 1)) == 61) {
      n--;
      if (load<u16>(src + ((<usize>n - 1) << 1)) == 61) n--;
    }
  }
  const rem = n & 3;
  if (rem == 1) return null;
  const outLen = (n >> 2) * 3 + (rem == 0 ? 0 : rem - 1);
  const out = new Uint8Array(outLen);
  const dst = out.dataStart;
  const quads = n >> 2;
  let o: usize = 0;
  let p = src;
  for (let q = 0; q < quads; q++) {
    const a = sextet(<u32>load<u16>(p), url);
    const b = sextet(<u32>load<u16>(p, 2), url);
    const c = sextet(<u32>load<u16>(p, 4), url);
    const d = sextet(<u32>load<u16>(p, 6), url);
    if ((a | b | c | d) < 0) return null;
    const v = (<u32>a << 18) | (<u32>b << 12) | (<u32>c << 6) | <u32>d;
    store<u8>(dst + o, <u8>(v >> 16));
    store<u8>(dst + o + 1, <u8>(v >> 8));
    store<u8>(dst + o + 2, <u8>v);
    o += 3;
    p += 8;
  }
  if (rem == 2) {
    const a = sextet(<u32>load<u16>(p), url);
    const b = sextet(<u32>load<u16>(p, 2), url);
    if ((a | b) < 0 || (b & 0xf) != 0) return null;
    store<u8>(dst + o, <u8>((a << 2) | (b >> 4)));
  } else if (rem == 3) {
    const a = sextet(<u32>load<u16>(p), url);
    const b = sextet(<u32>load<u16>(p, 2), url);
    const c = sextet(<u32>load<u16>(p, 4), url);
    if ((a | b | c) < 0 || (c & 3) != 0) return null;
    const v = (<u32>a << 10) | (<u32>b << 4) | (<u32>c >> 2);
    store<u8>(dst + o, <u8>(v >> 8));
    store<u8>(dst + o + 1, <u8>v);
  }
  return out;
}

/** Standard alphabet, padding required (length a multiple of 4). */
export function base64Decode(s: string): Uint8Array | null {
  return decode(s, false);
}

/** URL alphabet, no padding ('=' anywhere is rejected). */
export function base64UrlDecode(s: string): Uint8Array | null {
  return decode(s, true);
}

function encode(b: Uint8Array, url: bool): string {
  const n = <usize>b.length;
  const full = n / 3;
  const rem = n - full * 3;
  const outLen: usize = url ? full * 4 + (rem == 0 ? 0 : rem + 1) : (full + (rem == 0 ? 0 : 1)) * 4;
  const out = changetype<string>(__new(outLen << 1, idof<string>()));
  const dst = changetype<usize>(out);
  const tbl = url ? URL : STD;
  const src = b.dataStart;
  let o = dst;
  for (let i: usize = 0; i < full; i++) {
    const p = src + i * 3;
    const v = (<u32>load<u8>(p) << 16) | (<u32>load<u8>(p, 1) << 8) | <u32>load<u8>(p, 2);
    store<u16>(o, <u16>load<u8>(tbl + (v >> 18)));
    store<u16>(o, <u16>load<u8>(tbl + ((v >> 12) & 63)), 2);
    store<u16>(o, <u16>load<u8>(tbl + ((v >> 6) & 63)), 4);
    store<u16>(o, <u16>load<u8>(tbl + (v & 63)), 6);
    o += 8;
  }
  if (rem != 0) {
    const p = src + full * 3;
    const v = (<u32>load<u8>(p) << 16) | (rem == 2 ? <u32>load<u8>(p, 1) << 8 : 0);
    store<u16>(o, <u16>load<u8>(tbl + (v >> 18)));
    store<u16>(o, <u16>load<u8>(tbl + ((v >> 12) & 63)), 2);
    if (rem == 2) store<u16>(o, <u16>load<u8>(tbl + ((v >> 6) & 63)), 4);
    else if (!url) store<u16>(o, 61, 4);
    if (!url) store<u16>(o, 61, 6);
  }
  return out;
}

export function base64Encode(b: Uint8Array): string {
  return encode(b, false);
}

export function base64UrlEncode(b: Uint8Array): string {
  return encode(b, true);
}
