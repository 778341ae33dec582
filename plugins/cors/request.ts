// The request as the decision sees it (decide.ts RequestView), read from the host on demand. Every value
// is read with getHeaderCachedEnc: a repeated value comes back as the same string object, which is what
// the decision's memos key on.
import { encode, getHeaderCachedEnc, MapType } from "tollgate/assembly";
import { H_ACRH, H_ACRM, H_ACRPN, H_AUTHORITY, H_METHOD, H_ORIGIN, H_SCHEME } from "./constants";
import { RequestView } from "./decide";

const K_ORIGIN = encode(H_ORIGIN);
const K_METHOD = encode(H_METHOD);
const K_AUTHORITY = encode(H_AUTHORITY);
const K_SCHEME = encode(H_SCHEME);
const K_ACRM = encode(H_ACRM);
const K_ACRH = encode(H_ACRH);
const K_ACRPN = encode(H_ACRPN);

export class HostRequest extends RequestView {
  origin(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ORIGIN); }
  method(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_METHOD); }
  authority(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_AUTHORITY); }
  scheme(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_SCHEME); }
  accessControlRequestMethod(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRM); }
  accessControlRequestHeaders(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRH); }
  accessControlRequestPrivateNetwork(): string | null { return getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRPN); }
}
