// Names, details and messages of __NAME__, in one place (smaller binaries, no typos).

/** The plugin's name: root_id, log prefix and the `<plugin>.<reason>` details of its replies. */
export const PLUGIN = "__NAME__";

/** The config keys the plugin accepts (none yet: add yours here, in config.ts and in plugin.json's schema). */
export const TOP_KEYS: string[] = [];
