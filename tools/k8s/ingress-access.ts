// Who may reach an Ingress' routes (issue 21): auth-type basic + auth-secret (the htpasswd Secret from the same
// input → the users the auth plugin can check; htpasswd.ts reads the entries) and whitelist-source-range (CIDRs of
// the client address). Used by ingress.ts's translate; an auth the translation cannot keep is an IngressError,
// never a route served open.
import { isIP } from "node:net";
import { IngressError } from "./errors.ts";
import { basicCredential, parseHtpasswd, type HtpasswdEntry } from "./htpasswd.ts";
import type { Ingress, IngressModel } from "./ingress.ts";

const id = (i: { namespace: string; name: string }) => `${i.namespace}/${i.name}`;
const csv = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);

export const AUTH_KEYS = ["auth-type", "auth-secret", "auth-secret-type", "auth-realm"];

/** A v1 Secret from the input, data decoded. */
export interface SecretDoc {
  file: string;
  at: string;
  namespace: string;
  name: string;
  type: string;
  data: Record<string, string>;
}

/** auth-type basic on one Ingress: the users of its Secret the auth plugin can check. */
export interface BasicAuthPolicy {
  realm: string;
  /** `<namespace>/<name>` of the Secret. */
  secret: string;
  users: Array<{ user: string; credential: string }>;
}

const annField = (ing: Ingress, key: string) => `${ing.at ? `${ing.at}.` : ""}metadata.annotations["${ing.ann.get(key)?.key ?? key}"]`;

/** auth-type basic → the Secret's users; refused entries are reported per user, an auth that cannot be kept is an error. */
export function basicAuth(ing: Ingress, model: IngressModel, secrets: Map<string, SecretDoc>): BasicAuthPolicy | null {
  const type = ing.ann.get("auth-type");
  if (!type) {
    for (const k of AUTH_KEYS.slice(1)) if (ing.ann.has(k)) model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get(k)!.key, message: "has no effect without auth-type (as in ingress-nginx)" });
    return null;
  }
  const fail = (key: string, msg: string, fix: string): never => {
    throw new IngressError(ing.file, annField(ing, key), msg, fix);
  };
  const t = type.value.trim().toLowerCase();
  if (t === "digest") fail("auth-type", "digest cannot be translated: the auth plugin speaks HTTP Basic, and dropping the annotation would serve the Ingress without authentication", "switch to auth-type: basic with {SHA} or {PLAIN} entries, or remove the auth annotations");
  if (t !== "basic") fail("auth-type", `must be "basic" or "digest", got "${type.value}"`, 'write "basic"');
  const ref = ing.ann.get("auth-secret")?.value.trim() ?? "";
  if (!ref) fail("auth-secret", "is required with auth-type basic (ingress-nginx denies the location without it)", "name the htpasswd Secret: <name> or <namespace>/<name>");
  const parts = ref.split("/");
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (parts.length > 2 || !parts.every((p) => dns.test(p))) fail("auth-secret", `'${ref}' is not a Secret name or <namespace>/<name>`, "name the Secret");
  const key = parts.length === 2 ? ref : `${ing.namespace}/${ref}`;
  const sec = secrets.get(key);
  if (!sec) {
    fail("auth-secret", `names Secret ${key}, which is not in the input; without it the route would be served without authentication`, `pass the Secret's manifest with the Ingresses (kubectl get secret -n ${key.split("/")[0]} ${key.split("/")[1]} -o yaml)`);
  }
  const secretType = ing.ann.get("auth-secret-type")?.value.trim() || "auth-file";
  let entries: HtpasswdEntry[];
  if (secretType === "auth-file") {
    if (sec!.data.auth === undefined) fail("auth-secret", `Secret ${key} has no key 'auth' (auth-secret-type auth-file reads the htpasswd file from data.auth; ingress-nginx answers 503 without it)`, "create it with: kubectl create secret generic <name> --from-file=auth");
    entries = parseHtpasswd(sec!.data.auth);
  } else if (secretType === "auth-map") {
    entries = Object.entries(sec!.data).map(([user, hash]) => ({ user, hash: hash.replace(/\r?\n$/, ""), line: 0 }));
  } else {
    entries = fail("auth-secret-type", `must be auth-file or auth-map, got "${secretType}"`, "write auth-file (an htpasswd file in data.auth) or auth-map (one key per user)");
  }
  const realm = ing.ann.get("auth-realm")?.value ?? "";
  if (!/^[ !#-\[\]-~]*$/.test(realm)) fail("auth-realm", `'${realm}' has '"', '\\' or a non-printable character, which a WWW-Authenticate realm cannot carry`, "write a realm of printable ASCII without quotes or backslashes");
  const users: BasicAuthPolicy["users"] = [];
  const seen = new Set<string>();
  const refused: string[] = [];
  const where = (e: HtpasswdEntry) => `Secret ${key}${e.line ? ` line ${e.line}` : ""}, user "${e.user}"`;
  for (const e of entries) {
    if (seen.has(e.user)) {
      model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get("auth-secret")!.key, message: `${where(e)}: a later entry for the same user is ignored (nginx uses the first)` });
      continue;
    }
    seen.add(e.user);
    const c = basicCredential(e.user, e.hash);
    if ("refused" in c) {
      refused.push(`"${e.user}": ${c.refused}`);
      model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get("auth-secret")!.key, message: `${where(e)}: ${c.refused}; this user is refused (401) by the translation` });
    } else users.push({ user: e.user, credential: c.credential });
  }
  if (users.length === 0) {
    fail("auth-secret", `Secret ${key} has no user the auth plugin can check${refused.length ? ` (${refused.join("; ")})` : " (no entries)"}; the route would be served without authentication`, "re-create the entries with htpasswd -s ({SHA}) or as {PLAIN}<password>");
  }
  return { realm, secret: key, users };
}

/** One password per user name and one realm across the translated Ingresses (the auth plugin's consumers are global). */
export function checkBasicAuth(model: IngressModel): void {
  const byUser = new Map<string, { credential: string; secret: string }>();
  let realm: { value: string; ingress: string } | null = null;
  for (const [name, a] of [...model.basicAuth].sort((x, y) => x[0].localeCompare(y[0]))) {
    for (const u of a.users) {
      const prev = byUser.get(u.user);
      if (prev && prev.credential !== u.credential) {
        const ing = model.ingresses.find((i) => id(i) === name)!;
        throw new IngressError(ing.file, annField(ing, "auth-secret"), `user "${u.user}" is in Secret ${prev.secret} and Secret ${a.secret} with different passwords; the auth plugin has one password per user name`, "give the user the same entry in both Secrets, or rename one");
      }
      byUser.set(u.user, { credential: u.credential, secret: a.secret });
    }
    if (realm === null) realm = { value: a.realm, ingress: name };
    else if (realm.value !== a.realm) {
      const ing = model.ingresses.find((i) => id(i) === name)!;
      model.differences.push({ ingress: name, annotation: ing.ann.get("auth-realm")?.key ?? ing.ann.get("auth-type")!.key, message: `realm "${a.realm}" differs from "${realm.value}" (Ingress ${realm.ingress}): the auth plugin has one Basic realm, "${realm.value}" is sent` });
    }
  }
  // Consumers are global: a user of another Ingress' Secret is a valid consumer outside this route's allow list.
  for (const [name, a] of model.basicAuth) {
    const own = new Set(a.users.map((u) => u.user));
    const others = [...byUser.keys()].filter((u) => !own.has(u));
    if (others.length) {
      const ing = model.ingresses.find((i) => id(i) === name)!;
      model.differences.push({ ingress: name, annotation: ing.ann.get("auth-secret")!.key, message: `users of other Ingresses' Secrets (${others.join(", ")}) get 403 here with their own password (the auth plugin knows them; ingress-nginx answers 401)` });
    }
  }
}

/** whitelist-source-range → CIDRs (a bare address is /32 or /128; IPv4 host bits are cleared, as nginx does). */
export function sourceRanges(ing: Ingress): string[] | null {
  const a = ing.ann.get("whitelist-source-range");
  if (!a) return null;
  const out: string[] = [];
  for (const item of csv(a.value)) {
    const [addr, len, extra] = item.split("/");
    const v = isIP(addr);
    const max = v === 4 ? 32 : 128;
    const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : -1;
    if (!v || extra !== undefined || bits < 0 || bits > max) {
      throw new IngressError(ing.file, annField(ing, "whitelist-source-range"), `'${item}' is not an IP address or CIDR`, "list CIDRs separated by commas, e.g. 10.0.0.0/8, 192.168.1.7");
    }
    if (v === 4) {
      const n = addr.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
      const masked = bits === 0 ? 0 : (n - (n % 2 ** (32 - bits)));
      out.push(`${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join(".")}/${bits}`);
    } else out.push(`${addr.toLowerCase()}/${bits}`);
  }
  // An empty value leaves the Ingress open in ingress-nginx too.
  return out.length ? out : null;
}
