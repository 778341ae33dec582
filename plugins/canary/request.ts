// The request as the decision sees it, read from the host lazily: a decision settled by the override
// header never reads the Cookie header or the path. Each host value is fetched at most once per request.
import {
  cookieValue, encode, getHeaderCachedEnc, getHeaderEnc, getHeaderJoinedEnc, MapType, pathWithoutQuery, queryParam,
} from "tollgate/assembly";
import { COOKIE_HEADER, METHOD_HEADER, PATH_HEADER } from "./constants";
import { RequestView } from "./decide";
import { encodeName } from "./config";

const COOKIE = encodeName(COOKIE_HEADER);
const PATH = encodeName(PATH_HEADER);
const METHOD = encodeName(METHOD_HEADER);
const COOKIE_SEP = encode("; ");

export class HostRequest extends RequestView {
  private cookies: string | null = null;
  private cookiesRead: bool = false;
  private rawPath: string | null = null;

  /** Forgets the previous request's values; one instance per VM serves every request (no allocation). */
  reset(): HostRequest {
    this.cookies = null;
    this.cookiesRead = false;
    this.rawPath = null;
    return this;
  }

  header(name: ArrayBuffer): string | null {
    return getHeaderEnc(MapType.REQUEST_HEADERS, name);
  }

  cookie(name: string): string | null {
    if (!this.cookiesRead) {
      // Every Cookie header (HTTP/1 clients may split them): the pin and cookie conditions see them all.
      this.cookies = getHeaderJoinedEnc(MapType.REQUEST_HEADERS, COOKIE, COOKIE_SEP);
      this.cookiesRead = true;
    }
    const all = this.cookies;
    return all === null ? null : cookieValue(all, name);
  }

  query(name: string): string | null {
    return queryParam(this.fullPath(), name);
  }

  path(): string {
    return pathWithoutQuery(this.fullPath());
  }

  method(): string {
    const m = getHeaderCachedEnc(MapType.REQUEST_HEADERS, METHOD);
    return m === null ? "" : m;
  }

  private fullPath(): string {
    const cached = this.rawPath;
    if (cached !== null) return cached;
    const h = getHeaderEnc(MapType.REQUEST_HEADERS, PATH);
    const p = h === null ? "" : h;
    this.rawPath = p;
    return p;
  }
}
