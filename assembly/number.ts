// Integers as decimal text. One formatter for every integer type: AssemblyScript's toString() links a
// separate printer (and its digit tables and radix checks) per integer type into every plugin.

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

const DIGITS: usize = memory.data(24);

/** `n` in decimal ("-" for negatives), as toString() would print it. */
export function decimal(n: i64): string {
  const neg = n < 0;
  // -i64.MIN_VALUE overflows to itself; as u64 it is the right magnitude.
  const len = writeDecimal(DIGITS, neg ? <u64>(-n) : <u64>n);
  const out = changetype<string>(__new((len + (neg ? 1 : 0)) << 1, idof<string>()));
  let d = changetype<usize>(out);
  if (neg) {
    store<u16>(d, 0x2d);
    d += 2;
  }
  for (let i: usize = 0; i < len; i++) store<u16>(d + (i << 1), <u16>load<u8>(DIGITS + i));
  return out;
}
