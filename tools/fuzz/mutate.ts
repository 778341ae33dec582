// Deterministic random mutations of a JSON config: the neighbourhood of a realistic config, where
// schema/plugin disagreements live (a changed type, a number past a bound, an unknown key, a missing
// required field, an emptied list, a swapped enum value).

/** A small seeded PRNG (mulberry32) so a fast-check seed reproduces the same mutation. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SAMPLE_STRINGS = ["", "*", "x", "GET", "second", "minute", "v2", "https://a.example.com", "https://*.example.com:[8080,*]", "x-user-id", "token_bucket", "draft03", "uid", "percentage", "header", "not a url", "\u00e9"];
const SAMPLE_NUMBERS = [-1, 0, 1, 2, 99, 100, 101, 200, 204, 429, 399, 86400, 1.5, 2147483648, 1e12];

function randomScalar(r: () => number): Json {
  const k = Math.floor(r() * 6);
  if (k === 0) return null;
  if (k === 1) return r() < 0.5;
  if (k === 2) return SAMPLE_NUMBERS[Math.floor(r() * SAMPLE_NUMBERS.length)];
  if (k === 3) return [];
  if (k === 4) return {};
  return SAMPLE_STRINGS[Math.floor(r() * SAMPLE_STRINGS.length)];
}

/** Every (parent, key) slot in the tree, so a mutation can pick any node uniformly. */
function slots(v: Json, out: Array<{ parent: Json[] | { [k: string]: Json }; key: string | number }> = []) {
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      out.push({ parent: v, key: i });
      slots(item, out);
    });
  } else if (v && typeof v === "object") {
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: k });
      slots(v[k], out);
    }
  }
  return out;
}

function mutateOnce(root: Json, r: () => number): Json {
  const all = slots(root);
  const op = Math.floor(r() * 7);
  if (op === 0 && root && typeof root === "object" && !Array.isArray(root)) {
    (root as Record<string, Json>)[`unknown_${Math.floor(r() * 100)}`] = randomScalar(r);
    return root;
  }
  if (!all.length) return randomScalar(r);
  const s = all[Math.floor(r() * all.length)];
  const cur = (s.parent as Record<string | number, Json>)[s.key];
  switch (op) {
    case 1: // delete (or remove an array element)
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete (s.parent as Record<string, Json>)[s.key as string];
      break;
    case 2: // change the type
      (s.parent as Record<string | number, Json>)[s.key] = randomScalar(r);
      break;
    case 3: // nudge a number or string
      if (typeof cur === "number") (s.parent as Record<string | number, Json>)[s.key] = SAMPLE_NUMBERS[Math.floor(r() * SAMPLE_NUMBERS.length)];
      else if (typeof cur === "string") (s.parent as Record<string | number, Json>)[s.key] = SAMPLE_STRINGS[Math.floor(r() * SAMPLE_STRINGS.length)];
      else if (typeof cur === "boolean") (s.parent as Record<string | number, Json>)[s.key] = !cur;
      break;
    case 4: // duplicate an array element
      if (Array.isArray(cur) && cur.length) cur.push(JSON.parse(JSON.stringify(cur[Math.floor(r() * cur.length)])));
      break;
    case 5: // empty a container
      if (Array.isArray(cur)) cur.length = 0;
      else if (cur && typeof cur === "object") for (const k of Object.keys(cur)) delete (cur as Record<string, Json>)[k];
      break;
    default: // keep as is (valid neighbours matter too)
      break;
  }
  return root;
}

/** `n` mutations of a deep copy of `config`, reproducible from `seed`. */
export function mutateConfig(config: unknown, seed: number, n: number): unknown {
  const r = rng(seed);
  let v = JSON.parse(JSON.stringify(config ?? {})) as Json;
  for (let i = 0; i < n; i++) v = mutateOnce(v, r);
  return v;
}
