// Constant-time comparison: the running time depends on the lengths only, never on where the
// inputs first differ (secrets: API keys, HMAC tags, password hashes).

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  const n = a.length;
  if (n != b.length) return false;
  return ctEqualRaw(a.dataStart, b.dataStart, <usize>n);
}

export function ctEqualRaw(a: usize, b: usize, n: usize): bool {
  // Eight bytes at a time, then the tail; every byte is always visited (no early exit).
  let diff: u64 = 0;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) diff |= load<u64>(a + i) ^ load<u64>(b + i);
  for (; i < n; i++) diff |= <u64>(load<u8>(a + i) ^ load<u8>(b + i));
  return diff == 0;
}
