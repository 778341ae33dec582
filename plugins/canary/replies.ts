// What the request and the response get: the tag header the mesh routes on, and the pin cookie.
import { addHeader, MapType, removeHeaderEnc, replaceHeaderEnc } from "tollgate/assembly";
import { CanaryConfig, Tag } from "./config";
import { SET_COOKIE } from "./constants";
import { pinCookieHeader } from "./decide";

/** Sets `tag_header` to `tag`; with no tag, removes it. Either way every client-sent value is gone, so a spoofed tag cannot route. */
export function writeTag(cfg: CanaryConfig, tag: Tag): void {
  if (tag.name.length > 0) replaceHeaderEnc(MapType.REQUEST_HEADERS, cfg.tagHeaderBytes, tag.bytes);
  else removeHeaderEnc(MapType.REQUEST_HEADERS, cfg.tagHeaderBytes);
}

/** Removes a tag header this plugin owns (its name encoded). */
export function removeTag(name: ArrayBuffer): void {
  removeHeaderEnc(MapType.REQUEST_HEADERS, name);
}

/** Pins a drawn `tag` on the client with the configured cookie. */
export function pinTag(cfg: CanaryConfig, tag: Tag): void {
  addHeader(MapType.RESPONSE_HEADERS, SET_COOKIE, pinCookieHeader(cfg, tag));
}
