// Names, log lines and messages of __NAME__, in one place (smaller binaries, no typos).

/** The plugin's name: root_id, log prefix and the `<plugin>.<reason>` details of its replies. */
export const PLUGIN = "__NAME__";

export const TOP_KEYS: string[] = ["header", "value", "methods"];
export const METHOD_HEADER = ":method";
