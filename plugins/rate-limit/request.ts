// The request as the decision sees it (decide.ts RequestView), read from the host lazily: a rule set that
// keys on one header never reads the path, the cookies or the peer address. Each value is read at most
// once per request: one view per stream, so a request decided again (after the rate limit service
// answers) reuses what it read, and what it read is garbage once the stream ends.
import { encode, getHeader, getHeaderEnc, getHeaderJoinedEnc, getProperty, MapType } from "tollgate/assembly";
import { RequestView } from "./decide";

const COOKIE = encode("cookie");
const COOKIE_SEP = encode("; ");
const PATH = encode(":path");
const XFF = encode("x-forwarded-for");

export class HostRequest extends RequestView {
  private path: string | null = null;
  private pathRead: bool = false;
  private cookieHeader: string | null = null;
  private cookiesRead: bool = false;

  header(name: ArrayBuffer): string | null {
    return getHeaderEnc(MapType.REQUEST_HEADERS, name);
  }

  fullPath(): string | null {
    if (!this.pathRead) {
      this.path = getHeaderEnc(MapType.REQUEST_HEADERS, PATH);
      this.pathRead = true;
    }
    return this.path;
  }

  cookies(): string | null {
    if (!this.cookiesRead) {
      this.cookieHeader = getHeaderJoinedEnc(MapType.REQUEST_HEADERS, COOKIE, COOKIE_SEP);
      this.cookiesRead = true;
    }
    return this.cookieHeader;
  }

  sourceAddress(): string | null {
    return getProperty("source.address");
  }

  forwardedFor(): string | null {
    return getHeaderEnc(MapType.REQUEST_HEADERS, XFF);
  }
}
