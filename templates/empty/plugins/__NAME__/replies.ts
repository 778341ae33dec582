// What the client sees from __NAME__: one helper per outcome (localReply(status, "__NAME__.<reason>", body,
// content type, headers)), called from stream.ts.
import { localReply } from "tollgate/assembly";

/** 403, details `__NAME__.denied`. */
export function denied(): void {
  localReply(403, "__NAME__.denied", "denied\n", "text/plain", []);
}
