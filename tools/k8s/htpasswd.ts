// ingress-nginx basic auth Secrets → the auth plugin's Basic credentials. ingress-nginx writes the Secret into an
// nginx auth_basic_user_file, so a line means what nginx reads: `user:password[:comment]` (the password field ends
// at the next colon), `#` starts a comment line, the first line for a user wins, and a password without a
// `{SCHEME}` prefix is a crypt(3) hash, never a plain password. The auth plugin checks plain and `{SHA}`
// (unsalted SHA-1, `htpasswd -s`) passwords; every other scheme nginx reads is refused here, by user.

export interface HtpasswdEntry {
  user: string;
  /** The password field as written (scheme included). */
  hash: string;
  /** 1-based line in the file, 0 for an auth-map key. */
  line: number;
}

/** Lines of an auth-file Secret value, as nginx reads them. */
export function parseHtpasswd(text: string): HtpasswdEntry[] {
  const out: HtpasswdEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon < 0) {
      out.push({ user: line, hash: "", line: i + 1 });
      return;
    }
    const rest = line.slice(colon + 1);
    const end = rest.indexOf(":");
    out.push({ user: line.slice(0, colon), hash: end < 0 ? rest : rest.slice(0, end), line: i + 1 });
  });
  return out;
}

/** The auth plugin's `user:…` credential for an nginx password field, or why it cannot be one. */
export function basicCredential(user: string, hash: string): { credential: string } | { refused: string } {
  if (!/^[!-9;-~]{1,256}$/.test(user)) return { refused: "the user name is empty or has spaces, colons or control characters" };
  if (hash === "") return { refused: "has no password (nginx never admits it)" };
  if (hash.startsWith("{PLAIN}")) {
    const plain = hash.slice(7);
    if (/^\{SHA(256)?\}/.test(plain)) return { refused: "a {PLAIN} password starting with {SHA} or {SHA256} would be read as a hash by the auth plugin" };
    if (/[\x00-\x1f\x7f]/.test(plain)) return { refused: "the {PLAIN} password has control characters" };
    return { credential: `${user}:${plain}` };
  }
  if (hash.startsWith("{SHA}")) {
    const b64 = hash.slice(5);
    if (!/^[A-Za-z0-9+/]{27}=$/.test(b64) || Buffer.from(b64, "base64").length !== 20) return { refused: "the {SHA} value is not the base64 of a 20-byte SHA-1 digest" };
    return { credential: `${user}:{SHA}${b64}` };
  }
  return { refused: `${scheme(hash)} is not one the auth plugin checks ({PLAIN} and {SHA}, i.e. htpasswd -s)` };
}

/** The hash scheme nginx would use, named for the message. */
function scheme(hash: string): string {
  if (hash.startsWith("$apr1$")) return "Apache MD5 ($apr1$, htpasswd's default)";
  if (/^\$2[abxy]\$/.test(hash)) return "bcrypt ($2y$, htpasswd -B)";
  if (hash.startsWith("$1$")) return "MD5-crypt ($1$)";
  if (hash.startsWith("$5$")) return "SHA-256-crypt ($5$)";
  if (hash.startsWith("$6$")) return "SHA-512-crypt ($6$)";
  if (hash.startsWith("{SSHA}")) return "salted SHA-1 ({SSHA})";
  const named = /^\{([A-Za-z0-9-]+)\}/.exec(hash);
  if (named) return `{${named[1]}} (nginx knows only {PLAIN}, {SHA} and {SSHA})`;
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return "DES crypt (htpasswd -d)";
  return "a crypt(3) hash (a password without a {SCHEME} prefix is one to nginx; write {PLAIN} before a plain password)";
}
