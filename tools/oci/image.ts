// Packs a .wasm into an image Istio's agent loads (deploy.md §4). Deterministic: the tar has fixed mtime,
// owner and mode, and the gzip header is fixed, so the same .wasm always gives the same manifest digest.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

export const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  wasmConfig: "application/vnd.module.wasm.config.v1+json",
  wasmContent: "application/vnd.module.wasm.content.layer.v1+wasm",
} as const;

export type ImageFormat = "compat" | "oci";

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  data: Uint8Array;
}

export interface Image {
  format: ImageFormat;
  /** Config and layer blobs, config first; upload all before the manifest. */
  blobs: Blob[];
  manifest: Uint8Array;
  manifestDigest: string;
  mediaType: string;
}

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function blob(mediaType: string, data: Uint8Array): Blob {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

/** A POSIX ustar archive with one regular file: mode 0644, uid/gid 0, owner root, mtime 0. */
export function tarOneFile(name: string, content: Uint8Array): Uint8Array {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const header = Buffer.alloc(512, 0);
  const field = (off: number, len: number, value: string) => header.write(value, off, len, "ascii");
  const octal = (off: number, len: number, n: number) => field(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, content.length);
  octal(136, 12, 0);
  header.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  field(265, 32, "root");
  field(297, 32, "root");
  let sum = 0;
  for (const b of header) sum += b;
  field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  const pad = (512 - (content.length % 512)) % 512;
  return Buffer.concat([header, Buffer.from(content), Buffer.alloc(pad), Buffer.alloc(1024)]);
}

/** gzip with a fixed header: no name, mtime 0, XFL 2 (best), OS 255 (unknown) — whatever the platform. */
export function gzipFixed(data: Uint8Array): Uint8Array {
  const gz = Buffer.from(gzipSync(data, { level: 9 }));
  gz.writeUInt32LE(0, 4);
  gz[8] = 2;
  gz[9] = 255;
  return gz;
}

function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function isWasm(wasm: Uint8Array): boolean {
  return wasm.length >= 8 && wasm[0] === 0 && wasm[1] === 0x61 && wasm[2] === 0x73 && wasm[3] === 0x6d;
}

/**
 * compat (default): OCI manifest, one tar+gzip layer holding plugin.wasm, an image config whose diff_ids are
 * the uncompressed tar's digest, annotation module.wasm.image/variant=compat. Every Istio version and Higress
 * load it. oci: the two-layer Wasm artifact (config layer + raw wasm layer) that wasme produced.
 */
export function packImage(wasm: Uint8Array, opts: { format?: ImageFormat; rootId?: string } = {}): Image {
  if (!isWasm(wasm)) throw new Error("not a WebAssembly module (missing the \\0asm magic)");
  const format = opts.format ?? "compat";
  let blobs: Blob[];
  let manifest: Record<string, unknown>;
  if (format === "compat") {
    const tar = tarOneFile("plugin.wasm", wasm);
    const layer = blob(MEDIA.layerTarGzip, gzipFixed(tar));
    // Platform as Docker names Wasm images (wasi/wasm); Istio never reads the config, registries and UIs do.
    const config = blob(MEDIA.config, json({ architecture: "wasm", os: "wasi", config: {}, rootfs: { type: "layers", diff_ids: [sha256(tar)] } }));
    blobs = [config, layer];
    manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
      annotations: { "module.wasm.image/variant": "compat" },
    };
  } else {
    const runtimeConfig = blob(MEDIA.wasmConfig, json({ type: "envoy_proxy", abiVersions: ["proxy_abi_version_0_2_1"], config: { root_ids: opts.rootId ? [opts.rootId] : [] } }));
    const content = blob(MEDIA.wasmContent, wasm);
    blobs = [runtimeConfig, content];
    manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: runtimeConfig.mediaType, digest: runtimeConfig.digest, size: runtimeConfig.size },
      layers: [
        { mediaType: runtimeConfig.mediaType, digest: runtimeConfig.digest, size: runtimeConfig.size, annotations: { "org.opencontainers.image.title": "runtime-config.json" } },
        { mediaType: content.mediaType, digest: content.digest, size: content.size, annotations: { "org.opencontainers.image.title": "plugin.wasm" } },
      ],
    };
  }
  const bytes = json(manifest);
  return { format, blobs: dedupe(blobs), manifest: bytes, manifestDigest: sha256(bytes), mediaType: MEDIA.manifest };
}

function dedupe(blobs: Blob[]): Blob[] {
  const seen = new Set<string>();
  return blobs.filter((b) => !seen.has(b.digest) && seen.add(b.digest));
}
