// Reading Node's raw response headers the way the tests compare them.

/** rawHeaders → lower-case name → value, repeated names joined with "," (as HTTP allows). */
export function foldRawHeaders(raw: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    h[k] = h[k] === undefined ? raw[i + 1] : `${h[k]},${raw[i + 1]}`;
  }
  return h;
}
