// What the client sees from __NAME__: one helper per outcome.
import { MapType, replaceHeader } from "tollgate/assembly";
import { __CLASS__Config } from "./config";

/** Sets the configured header on the response (replacing an upstream's copy). */
export function setResponseHeader(cfg: __CLASS__Config): void {
  replaceHeader(MapType.RESPONSE_HEADERS, cfg.header, cfg.value);
}
