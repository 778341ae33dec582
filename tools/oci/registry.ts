// A minimal OCI distribution-spec client for pushing (deploy.md §4.5): HEAD existing blobs, POST + PUT
// monolithic uploads (Location may be relative, absolute, carry a query, or name another host), manifest PUT
// with its media type, Docker-Content-Digest checked. Auth: anonymous, Basic, Bearer token flow from the
// WWW-Authenticate challenge. Only 502/503/504 are retried. The manifest is written only after every blob.
import { ToolError } from "../errors.ts";
import type { Blob, Image } from "./image.ts";
import type { ImageRef } from "./reference.ts";
import { formatReference } from "./reference.ts";

export interface PushOptions {
  plainHttp?: boolean;
  credentials?: { username: string; password: string; source: string } | null;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Retries for 502/503/504 (default 3) and the first backoff in ms (doubles). */
  retries?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
}

export class RegistryError extends ToolError {
  constructor(message: string, readonly status?: number, hint?: string) {
    super(message, hint);
  }
}

interface Challenge { scheme: string; params: Record<string, string> }

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may contain commas). */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export class RegistryClient {
  private authorization: string | null = null;
  private readonly base: string;
  private readonly f: typeof fetch;
  private readonly what: string;

  constructor(private readonly ref: ImageRef, private readonly opts: PushOptions = {}) {
    this.base = `${opts.plainHttp ? "http" : "https"}://${ref.apiHost}`;
    this.f = opts.fetch ?? fetch;
    this.what = formatReference(ref);
  }

  /** Pushes the blobs (skipping those the registry has) and then the manifest; returns the manifest digest. */
  async push(image: Image): Promise<string> {
    for (const b of image.blobs) await this.pushBlob(b);
    return this.putManifest(image);
  }

  private progress(s: string): void {
    this.opts.progress?.(s);
  }

  async blobExists(digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${this.ref.repository}/blobs/${digest}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.fail(res, `checking blob ${short(digest)}`);
  }

  async pushBlob(b: Blob): Promise<void> {
    if (await this.blobExists(b.digest)) {
      this.progress(`${short(b.digest)}: already exists (${b.size} bytes)`);
      return;
    }
    this.progress(`${short(b.digest)}: uploading ${b.size} bytes`);
    const start = await this.request("POST", `/v2/${this.ref.repository}/blobs/uploads/`, { headers: { "content-length": "0" } });
    if (start.status === 201) {
      this.progress(`${short(b.digest)}: mounted`);
      return;
    }
    if (start.status !== 202) throw await this.fail(start, `starting the upload of ${short(b.digest)}`);
    const location = start.headers.get("location");
    if (!location) throw new RegistryError(`${this.what}: the registry started an upload but sent no Location header`);
    // The location is opaque: resolve it against the request URL and keep its query parameters.
    const url = new URL(location, start.url || this.base);
    url.searchParams.append("digest", b.digest);
    const put = await this.request("PUT", url.toString(), {
      headers: { "content-type": "application/octet-stream", "content-length": String(b.size) },
      body: b.data,
    });
    if (put.status !== 201 && put.status !== 204) throw await this.fail(put, `uploading blob ${short(b.digest)}`);
    const got = put.headers.get("docker-content-digest");
    if (got && got !== b.digest) throw new RegistryError(`${this.what}: the registry stored blob ${short(b.digest)} as ${got} (content changed in transit)`);
    this.progress(`${short(b.digest)}: pushed`);
  }

  async putManifest(image: Image): Promise<string> {
    const reference = this.ref.tag ?? this.ref.digest!;
    const res = await this.request("PUT", `/v2/${this.ref.repository}/manifests/${reference}`, {
      headers: { "content-type": image.mediaType },
      body: image.manifest,
    });
    if (res.status !== 201 && res.status !== 200) throw await this.fail(res, "writing the manifest");
    const got = res.headers.get("docker-content-digest");
    if (got && got !== image.manifestDigest) {
      throw new RegistryError(`${this.what}: the registry reports manifest digest ${got}, expected ${image.manifestDigest} (it rewrote the manifest; Istio's sha256 would not match)`);
    }
    this.progress(`manifest ${image.manifestDigest}: pushed to ${this.what}`);
    return image.manifestDigest;
  }

  /** One request with retries on 502/503/504 and one authentication round on 401. */
  private async request(method: string, pathOrUrl: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Response> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.base}${pathOrUrl}`;
    let authTried = false;
    const retries = this.opts.retries ?? 3;
    let delay = this.opts.backoffMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.authorization && sameHost(url, this.base)) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await this.f(url, { method, headers, body: init.body as unknown as BodyInit | undefined, redirect: "follow" });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (e as Error).message;
        const hint = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(String(detail))
          ? "check the registry address and that it is running"
          : /EPROTO|WRONG_VERSION_NUMBER|wrong version number|ECONNRESET/i.test(String(detail)) && !this.opts.plainHttp
            ? "the registry may speak plain HTTP: add --plain-http"
            : undefined;
        throw new RegistryError(`${this.what}: ${method} ${url} failed: ${detail}`, undefined, hint);
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        await res.arrayBuffer().catch(() => undefined);
        await this.authenticate(res.headers.get("www-authenticate"));
        attempt--; // the auth round is not a retry
        continue;
      }
      if ([502, 503, 504].includes(res.status) && attempt < retries) {
        await res.arrayBuffer().catch(() => undefined);
        this.progress(`${method} ${new URL(url).pathname}: ${res.status}, retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
        continue;
      }
      return res;
    }
  }

  private async authenticate(header: string | null): Promise<void> {
    const c = header ? parseChallenge(header) : null;
    const creds = this.opts.credentials;
    if (!c) throw new RegistryError(`${this.what}: the registry answered 401 without a WWW-Authenticate challenge`);
    if (c.scheme === "basic") {
      if (!creds) throw this.needCredentials();
      this.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      return;
    }
    if (c.scheme !== "bearer") throw new RegistryError(`${this.what}: unsupported auth scheme '${c.scheme}' in WWW-Authenticate`);
    const realm = c.params.realm;
    if (!realm) throw new RegistryError(`${this.what}: Bearer challenge without realm`);
    const tokenUrl = new URL(realm);
    if (c.params.service) tokenUrl.searchParams.set("service", c.params.service);
    // Pushing needs pull and push on the repository whatever scope the challenge named.
    const scopes = new Set([`repository:${this.ref.repository}:pull,push`]);
    if (c.params.scope) for (const s of c.params.scope.split(" ")) if (!s.startsWith(`repository:${this.ref.repository}:`)) scopes.add(s);
    for (const s of scopes) tokenUrl.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    let res: Response;
    try {
      res = await this.f(tokenUrl, { headers });
    } catch (e) {
      throw new RegistryError(`${this.what}: token request to ${tokenUrl.origin}${tokenUrl.pathname} failed: ${(e as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) {
      throw creds ? this.badCredentials(creds.source) : this.needCredentials();
    }
    if (!res.ok) throw new RegistryError(`${this.what}: token service ${tokenUrl.origin}${tokenUrl.pathname} answered ${res.status}`);
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${this.what}: the token service sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  private needCredentials(): RegistryError {
    return new RegistryError(`${this.what}: the registry requires authentication and no credentials were found`, 401,
      `pass --username <user> --password-stdin, or run 'docker login ${this.ref.registry}'`);
  }

  private badCredentials(source: string): RegistryError {
    return new RegistryError(`${this.what}: authentication failed: the registry rejected the credentials from ${source}`, 401,
      "check the username and password (--username/--password-stdin or 'docker login')");
  }

  private async fail(res: Response, doing: string): Promise<RegistryError> {
    const text = await res.text().catch(() => "");
    if (res.status === 401) {
      if (this.opts.credentials) return this.badCredentials(this.opts.credentials.source);
      return this.needCredentials();
    }
    let detail = "";
    try {
      const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      detail = (j.errors ?? []).map((e) => `${e.code}: ${e.message}`).join("; ");
    } catch {
      detail = text.slice(0, 200);
    }
    const hint = res.status === 403 ? "the credentials lack push permission on this repository" : undefined;
    return new RegistryError(`${this.what}: ${doing} failed: HTTP ${res.status}${detail ? ` (${detail})` : ""}`, res.status, hint);
  }
}

function sameHost(url: string, base: string): boolean {
  return new URL(url).host === new URL(base).host;
}

function short(digest: string): string {
  return digest.slice(0, 19);
}
