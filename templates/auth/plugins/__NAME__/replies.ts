// What the client sees from __NAME__: one helper per outcome, each with its status, body and details.
import { localReply } from "tollgate/assembly";
import { BODY_DENIED, BODY_MISSING, DETAILS_DENIED, DETAILS_MISSING, JSON_TYPE } from "./constants";

/** 401: no key presented. */
export function deniedNoKey(): void {
  localReply(401, DETAILS_MISSING, BODY_MISSING, JSON_TYPE, [["www-authenticate", "ApiKey"]]);
}

/** 403: a key that is not configured. */
export function deniedBadKey(): void {
  localReply(403, DETAILS_DENIED, BODY_DENIED, JSON_TYPE, []);
}
