// Shared by the black-box attack tests (smuggling, spoofing, jwt-tricks, connections): one envoy-configs
// bootstrap started on either engine with its clusters at echo upstreams that record every request they
// parse, and a raw-socket client that sends bytes Node's own client would refuse and reads every response
// the gateway writes back.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { parseEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { buildReferencedPlugins, localizeBootstrap } from "../../tools/diff/gateway.ts";
import type { EchoServer } from "../../tools/demo/echo.ts";
import type { FoundEnvoy } from "../../tools/envoy/launcher.ts";
import { repoRoot } from "../../tools/paths.ts";
import { type Engine, type EngineHandle, startEngine } from "../helpers/engines.ts";

/** A request as an upstream parsed it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: string;
  /** The request's body ended (false: the gateway reset the upstream stream before the end). */
  complete: boolean;
}

export interface Upstream {
  echo: EchoServer;
  /** Every request this upstream parsed, in arrival order (the body once it ended). */
  seen: SeenRequest[];
  /** Bytes the upstream's parser refused (what a mis-framed leftover would look like), by llhttp error code. */
  parseErrors: string[];
}

export interface Started {
  gw: EngineHandle;
  upstreams: Map<string, Upstream>;
  /** Every request the upstreams parsed (complete or not) plus the parse errors, counted together. */
  total(): number;
  /** Every upstream's requests, in arrival order per upstream. */
  seen(): SeenRequest[];
  /** Forgets what the upstreams saw so far. */
  reset(): void;
  stop(): Promise<void>;
}

function record(echo: EchoServer): Upstream {
  const u: Upstream = { echo, seen: [], parseErrors: [] };
  echo.server.on("request", (req) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
    const entry: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers, body: "", complete: false };
    u.seen.push(entry);
    req.on("data", (c: Buffer) => (entry.body += c.toString("latin1")));
    req.on("end", () => (entry.complete = true));
  });
  // A reset connection (ECONNRESET, or closed mid-body: HPE_INVALID_EOF_STATE) is the gateway aborting a
  // stream, not bytes the parser refused.
  echo.server.on("clientError", (e: NodeJS.ErrnoException) => {
    if (e.code?.startsWith("HPE_") && e.code !== "HPE_INVALID_EOF_STATE") u.parseErrors.push(e.code);
  });
  return u;
}

/**
 * Starts `envoy-configs/<config>` on `engine` from the same parsed bootstrap on both engines: listeners and
 * admin on ephemeral ports, clusters at recording echo upstreams (tools/diff/gateway.ts localizeBootstrap);
 * `edit` changes the parsed bootstrap after that, identically for both engines.
 */
export async function startConfig(
  engine: Engine,
  config: string,
  envoy: FoundEnvoy | null,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  opts: { concurrency?: number; edit?: (doc: any) => void } = {},
): Promise<Started> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parseEnvoyYaml(readFileSync(join(repoRoot(), "envoy-configs", config), "utf8")) as any;
  await buildReferencedPlugins(doc);
  const echoes = await localizeBootstrap(doc);
  opts.edit?.(doc);
  const upstreams = new Map([...echoes].map(([name, e]) => [name, record(e)]));
  const closeEchoes = () => Promise.all([...echoes.values()].map((e) => e.close()));
  let gw: EngineHandle;
  try {
    gw = await startEngine(engine, doc, envoy, { concurrency: opts.concurrency ?? 1 });
  } catch (e) {
    await closeEchoes();
    throw e;
  }
  return {
    gw,
    upstreams,
    total: () => [...upstreams.values()].reduce((n, u) => n + u.seen.length + u.parseErrors.length, 0),
    seen: () => [...upstreams.values()].flatMap((u) => u.seen),
    reset: () => {
      for (const u of upstreams.values()) {
        u.seen.length = 0;
        u.parseErrors.length = 0;
      }
    },
    stop: async () => {
      try {
        await gw.stop();
      } finally {
        await closeEchoes();
      }
    },
  };
}

export interface RawResult {
  /** The status code of every response on the connection, in order. */
  statuses: number[];
  /** Everything the gateway wrote, as latin1. */
  text: string;
  /** The gateway closed the connection (rather than the client giving up after `idleMs`). */
  closedByServer: boolean;
}

/** The status of each response in `text`, walking the framing (content-length or chunked) of each one. */
export function responseStatuses(text: string): number[] {
  const out: number[] = [];
  let off = 0;
  while (off < text.length) {
    const end = text.indexOf("\r\n\r\n", off);
    if (end < 0) break;
    const lines = text.slice(off, end).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[1]);
    out.push(status);
    off = end + 4;
    if (status < 200 || status === 204 || status === 304) continue;
    const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(name + ":"))?.slice(name.length + 1).trim();
    if (header("transfer-encoding")?.toLowerCase() === "chunked") {
      for (;;) {
        const le = text.indexOf("\r\n", off);
        if (le < 0) return out;
        const size = parseInt(text.slice(off, le), 16);
        off = le + 2 + size + 2;
        if (!(size > 0)) {
          // the last chunk: skip trailers up to the empty line
          const te = text.indexOf("\r\n\r\n", le);
          off = te < 0 ? text.length : te + 4;
          break;
        }
      }
    } else {
      const cl = header("content-length");
      off = cl === undefined ? text.length : off + Number(cl);
    }
  }
  return out;
}

/**
 * Writes `data` on one connection (all at once, or the given chunks with `gapMs` between them) and reads
 * until the gateway closes or stays silent for `idleMs` after its last byte.
 */
export function rawExchange(port: number, data: string | Buffer | Array<string | Buffer>, o: { idleMs?: number; gapMs?: number; maxMs?: number } = {}): Promise<RawResult> {
  const idleMs = o.idleMs ?? 1000;
  const parts = Array.isArray(data) ? data : [data];
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const s = connect(port, "127.0.0.1");
    s.setNoDelay(true);
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(cap);
      s.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ statuses: responseStatuses(text), text, closedByServer });
    };
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    };
    const cap = setTimeout(finish, o.maxMs ?? 15_000);
    s.on("data", (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    s.on("end", () => {
      closedByServer = true;
      finish();
    });
    s.on("close", () => {
      closedByServer = true;
      finish();
    });
    s.on("error", finish);
    s.on("connect", async () => {
      for (let i = 0; i < parts.length; i++) {
        if (done) return;
        if (i > 0 && o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        s.write(typeof parts[i] === "string" ? Buffer.from(parts[i] as string, "latin1") : (parts[i] as Buffer));
      }
      arm();
    });
  });
}

/** Waits until `cond` holds or `ms` passed; returns whether it held. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 5000, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, step));
  }
}
