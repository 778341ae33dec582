// The parsed auth configuration: what config.ts builds once at configure and the request path reads.
import { RuleSet, StringTable } from "tollgate/assembly";
import { JwtKey } from "./jwks";
import { RemoteJwks } from "./remote";

/** How a Basic password is stored. */
export namespace PasswordKind {
  // @ts-ignore: decorator
  @inline export const PLAIN: u8 = 0;
  // @ts-ignore: decorator
  @inline export const SHA256: u8 = 1;
  // @ts-ignore: decorator
  @inline export const SHA1: u8 = 2;
}

/** One `user:password` credential; `secret` is the password bytes or its digest. */
export class BasicUser {
  constructor(public user: Uint8Array, public kind: u8, public secret: Uint8Array, public consumer: i32) {}
}

/** The JWT issuer a consumer owns, with its keys and accepted audiences (normalised as Envoy does). */
/**
 * The JWT issuer a consumer owns, with its keys and accepted audiences (normalised as Envoy does). With
 * `remote`, the keys are the issuer's JWKS as last fetched (empty before the first successful fetch).
 */
export class JwtProvider {
  remote: RemoteJwks | null = null;
  constructor(public consumer: i32, public issuer: string, public audiences: string[], public keys: JwtKey[]) {}
}

export class Consumer {
  constructor(public name: string) {}
}

export class KeyAuth {
  /** Lower-cased for headers; as written for the query. */
  headerNames: string[] = [];
  queryNames: string[] = [];
  inHeader: bool = true;
  inQuery: bool = false;
  hideCredentials: bool = false;
  realm: string = "tollgate";
}

export class BasicAuth {
  realm: string = "tollgate";
  hideCredentials: bool = false;
}

export class TokenSource {
  constructor(public header: string, public prefix: string) {}
}

export class ClaimHeader {
  constructor(public claim: string, public header: string, public overrides: bool) {}
}

export class JwtAuth {
  fromHeaders: TokenSource[] = [];
  fromParams: string[] = [];
  fromCookies: string[] = [];
  clockSkewSeconds: f64 = 60;
  requireExp: bool = false;
  keepToken: bool = true;
  claimsToHeaders: ClaimHeader[] = [];
  realm: string = "tollgate";
  cacheSize: i32 = 1024;
}

export class ExtAuth {
  cluster: string = "";
  /** `cluster` encoded, for the callout. */
  clusterBytes: ArrayBuffer = new ArrayBuffer(0);
  authority: string = "";
  pathPrefix: string = "";
  timeoutMs: u32 = 200;
  allowedHeaders: string[] = [];
  allowedUpstreamHeaders: string[] = [];
  allowedClientHeaders: string[] = [];
  failureModeAllow: bool = false;
}

/** The global part of the config. */
export class AuthConfig {
  consumers: Consumer[] = [];
  /** consumer name → index in `consumers`. */
  consumerIds: StringTable = new StringTable();
  /** Flat key table: keys[i] belongs to consumers[keyOwner[i]]. */
  keys: string[] = [];
  keyOwner: i32[] = [];
  basicUsers: BasicUser[] = [];
  providers: JwtProvider[] = [];
  key: KeyAuth | null = null;
  basic: BasicAuth | null = null;
  jwt: JwtAuth | null = null;
  ext: ExtAuth | null = null;
  consumerHeader: string = "x-mse-consumer";
  /** -1 unset, 0 false, 1 true (Higress's table depends on "unset"). */
  globalAuth: i32 = -1;
}

/** What a request's matching rule (or the global config) says: `allow` = null means "no allow list". */
export class Scope {
  /** The allow list hashed (name → index in `allow`). */
  allowSet: StringTable | null = null;
  constructor(public allow: string[] | null) {
    if (allow !== null) {
      const set = new StringTable();
      for (let i = 0; i < allow.length; i++) set.add(unchecked(allow[i]), i);
      this.allowSet = set;
    }
  }
}

/** The parsed plugin: global config plus the rule set that picks a Scope per request. */
export class AuthPlugin {
  constructor(public config: AuthConfig, public rules: RuleSet<Scope>) {}

  /** Whether a request whose scope has no `allow` list must still authenticate (Higress §5.1 table). */
  authWithoutAllow(): bool {
    if (this.config.globalAuth >= 0) return this.config.globalAuth == 1;
    return this.rules.rules.length == 0;
  }
}
