// Constant-time comparison: the running time depends on the lengths only, never on where the
// inputs first differ (secrets: API keys, HMAC tags, password hashes).

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  const n = a.length;
  if (n != b.length) return false;
  return ctEqualRaw(a.dataStart, b.dataStart, <usize>n);
}

export function ctEqualRaw(a: usize, b: usize, n: usize): bool {
  let diff: u32 = 0;
  for (let i: usize = 0; i < n; i++) diff |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  return diff == 0;
}
