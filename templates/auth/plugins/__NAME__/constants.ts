// Names, details and messages of __NAME__, in one place (smaller binaries, no typos).

/** The plugin's name: root_id, log prefix and the `<plugin>.<reason>` details of its replies. */
export const PLUGIN = "__NAME__";

export const TOP_KEYS: string[] = ["keys", "header"];
export const DEFAULT_HEADER = "x-api-key";
export const MAX_KEYS: i32 = 1000;

export const DETAILS_MISSING = "__NAME__.missing_key";
export const DETAILS_DENIED = "__NAME__.bad_key";
export const BODY_MISSING = "{\"error\":\"missing API key\"}";
export const BODY_DENIED = "{\"error\":\"API key not allowed\"}";
export const JSON_TYPE = "application/json";
