// The request as the credential choice sees it (decide.ts RequestView), read from the host on demand:
// Authorization, the path and the cookies at most once per request (Basic and JWT may both look).
import { encode, getHeader, getHeaderJoinedEnc, MapType } from "tollgate/assembly";
import { RequestView } from "./decide";

const COOKIE = encode("cookie");
const COOKIE_SEP = encode("; ");

export class HostRequest extends RequestView {
  private authorization: string | null = null;
  private authorizationRead: bool = false;
  private path: string | null = null;
  private cookieHeader: string | null = null;
  private cookiesRead: bool = false;

  header(name: string): string | null {
    if (name != "authorization") return getHeader(MapType.REQUEST_HEADERS, name);
    if (!this.authorizationRead) {
      this.authorization = getHeader(MapType.REQUEST_HEADERS, name);
      this.authorizationRead = true;
    }
    return this.authorization;
  }

  fullPath(): string {
    const cached = this.path;
    if (cached !== null) return cached;
    const h = getHeader(MapType.REQUEST_HEADERS, ":path");
    const p = h !== null ? h : "/";
    this.path = p;
    return p;
  }

  cookies(): string | null {
    if (!this.cookiesRead) {
      this.cookieHeader = getHeaderJoinedEnc(MapType.REQUEST_HEADERS, COOKIE, COOKIE_SEP);
      this.cookiesRead = true;
    }
    return this.cookieHeader;
  }
}
