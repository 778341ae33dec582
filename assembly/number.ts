// Integers as decimal text. One formatter for every integer type: AssemblyScript's toString() links a
// separate printer (and its digit tables and radix checks) per integer type into every plugin.
import { decodeBytes } from "./values";

/** Decimal digits of `n` written at `dst`; returns how many. */
export function writeDecimal(dst: usize, n: u64): usize {
  let len: usize = 1;
  for (let t = n; t >= 10; t /= 10) len++;
  let p = dst + len;
  do {
    p--;
    store<u8>(p, <u8>(0x30 + <u32>(n % 10)));
    n /= 10;
  } while (n != 0);
  return len;
}

/** Value of hex digit `c` (0-9, a-f, A-F), or -1. One copy for JSON's \u escapes and URL percent escapes. */
export function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** `n` in decimal ("-" for negatives), as toString() would print it. */
export function decimal(n: i64): string {
  // A static block for a sign and up to 20 digits (memory.data is a compile-time address).
  const DIGITS = memory.data(24);
  const neg = n < 0;
  // -i64.MIN_VALUE overflows to itself; as u64 it is the right magnitude.
  const len = writeDecimal(DIGITS + 1, neg ? <u64>(-n) : <u64>n);
  if (!neg) return decodeBytes(DIGITS + 1, len);
  store<u8>(DIGITS, 0x2d);
  return decodeBytes(DIGITS, len + 1);
}
