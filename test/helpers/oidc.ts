// A real OpenID provider (the certified `oidc-provider` package) on 127.0.0.1 as the issuer of the remote
// JWKS tests: a client_credentials client, resource indicators so the token endpoint issues JWT access
// tokens (RS256 or ES256, by resource), key rotation as an operator does it (publish a new key and sign with
// it, later withdraw the old one), and stop/start on the same port to take the IdP down mid-test. Every
// request it serves is counted by path, so tests can tell how often the gateway fetched the JWKS.
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Provider from "oidc-provider";

export const CLIENT_ID = "tollgate-test";
export const CLIENT_SECRET = "tollgate-test-secret-that-is-long-enough";
/** Resource indicators (and so the tokens' `aud`): each is signed with its own algorithm. */
export const RESOURCES = { RS256: "https://api.tollgate.test/rs", ES256: "https://api.tollgate.test/es" } as const;
export type Alg = keyof typeof RESOURCES;

type PrivateJwk = Record<string, unknown> & { kid: string; alg: string };

export interface OidcProvider {
  /** http://127.0.0.1:<port> — the issuer, and the base of every endpoint. */
  readonly issuer: string;
  readonly port: number;
  /** The kids of the keys that sign now (first per algorithm in the published JWKS). */
  currentKids(): Record<Alg, string>;
  /** Every published kid, current first. */
  publishedKids(): string[];
  /** An access token (a JWT) from the token endpoint for the client_credentials client. */
  token(alg?: Alg): Promise<string>;
  /** Publishes a new RS256 and ES256 key and signs with them from now on; the old keys stay published. */
  rotate(): void;
  /** Withdraws every key but the current ones from the JWKS. */
  removeOldKey(): void;
  /** Requests served per path (e.g. "/jwks", "/.well-known/openid-configuration"), since start or reset. */
  count(path: string): number;
  resetCounts(): void;
  /** Answers the JWKS this many ms late (0: at once), so fetches overlap ticks as a distant IdP's do. */
  delayJwks(ms: number): void;
  /** Replaces the JWKS response (status and body) until cleared with null: broken or oversize documents. */
  overrideJwks(r: { status: number; body: string } | null): void;
  /** Closes the listener and every open connection: the IdP is down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

let serial = 0;

function newKey(alg: Alg): PrivateJwk {
  const n = ++serial;
  if (alg === "RS256") {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return { ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: `rs-${n}`, alg, use: "sig" };
  }
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: `es-${n}`, alg, use: "sig" };
}

/** Resolves within `ms` or rejects naming `what` (every wait here is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`oidc provider: ${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Starts the provider on 127.0.0.1 (port 0 = any free port; the same port is reused by start()). */
export async function startOidcProvider(opts: { port?: number; accessTokenTtl?: number } = {}): Promise<OidcProvider> {
  // Current keys first: oidc-provider signs with the first key of the token's algorithm.
  let keys: PrivateJwk[] = [newKey("RS256"), newKey("ES256")];
  let provider: Provider | null = null;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  let issuer = "";
  let override: { status: number; body: string } | null = null;
  let delay = 0;
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();

  const build = () => {
    const p = new Provider(issuer, {
      clients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
      }],
      jwks: { keys: keys.map((k) => ({ ...k })) },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCES.RS256,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            const alg = (Object.keys(RESOURCES) as Alg[]).find((a) => RESOURCES[a] === resource);
            if (!alg) throw new Error(`unknown resource ${resource}`);
            return { scope: "api", audience: resource, accessTokenTTL: opts.accessTokenTtl ?? 600, accessTokenFormat: "jwt", jwt: { sign: { alg } } };
          },
        },
      },
    });
    provider = p;
    handler = p.callback() as (req: IncomingMessage, res: ServerResponse) => void;
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (path === "/jwks" && delay > 0) {
      const timer = setTimeout(() => serve(req, res, path), delay);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    serve(req, res, path);
  });
  const serve = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (res.destroyed) return;
    if (path === "/jwks" && override) {
      res.writeHead(override.status, { "content-type": "application/json", "content-length": Buffer.byteLength(override.body) });
      res.end(override.body);
      return;
    }
    handler!(req, res);
  };
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const listen = (port: number) =>
    within(new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    }), 10_000, "listen");

  const port = await listen(opts.port ?? 0);
  issuer = `http://127.0.0.1:${port}`;
  build();

  const current = (alg: Alg) => keys.find((k) => k.alg === alg)!.kid;
  return {
    issuer,
    port,
    currentKids: () => ({ RS256: current("RS256"), ES256: current("ES256") }),
    publishedKids: () => keys.map((k) => k.kid),
    async token(alg: Alg = "RS256") {
      const body = new URLSearchParams({ grant_type: "client_credentials", resource: RESOURCES[alg], scope: "api" });
      const res = await within(fetch(`${issuer}/token`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: "Basic " + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64"),
        },
        body,
      }), 10_000, "token request");
      const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (res.status !== 200 || !json.access_token) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(json)}`);
      if (json.access_token.split(".").length !== 3) throw new Error(`token endpoint gave an opaque token: ${json.access_token}`);
      return json.access_token;
    },
    rotate() {
      keys = [newKey("RS256"), newKey("ES256"), ...keys];
      build();
    },
    removeOldKey() {
      const keep = new Set([current("RS256"), current("ES256")]);
      keys = keys.filter((k) => keep.has(k.kid));
      build();
    },
    count: (path) => counts.get(path) ?? 0,
    resetCounts: () => counts.clear(),
    delayJwks(ms) {
      delay = ms;
    },
    overrideJwks(r) {
      override = r;
    },
    async stop() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await within(closed, 10_000, "stop");
    },
    async start() {
      if (server.listening) return;
      await listen(port);
    },
  };
}

/** The JWT's header (alg, kid) without verifying it. */
export function tokenHeader(token: string): { alg: string; kid?: string } {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
}

/** The JWT's claims without verifying them. */
export function tokenClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}
