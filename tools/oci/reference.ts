// Image references as docker and Istio read them: [registry/]repo[:tag][@digest]; no registry means Docker Hub.

export interface ImageRef {
  /** Host[:port] as written (docker.io for Docker Hub). */
  registry: string;
  /** Host the API is served on (registry-1.docker.io for Docker Hub). */
  apiHost: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = "docker.io";

export function parseReference(ref: string): ImageRef {
  const input = ref.replace(/^oci:\/\//, "");
  if (!input || /\s/.test(input)) throw new Error(`'${ref}' is not an image reference`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`'${ref}': digest must be sha256:<64 lowercase hex>`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`'${ref}': tag '${tag}' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  const first = rest.split("/")[0];
  let registry = DOCKER_HUB;
  let repository = rest;
  if (rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    repository = rest.slice(first.length + 1);
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`'${ref}': repository '${repository}' must be lowercase path components ([a-z0-9] separated by . _ __ -)`);
  }
  if (!tag && !digest) throw new Error(`'${ref}' has no tag: write <registry>/<repo>:<tag>`);
  return { registry, apiHost: registry === DOCKER_HUB ? "registry-1.docker.io" : registry, repository, tag, digest };
}

export function formatReference(r: ImageRef): string {
  const repo = r.registry === DOCKER_HUB && r.repository.startsWith("library/") ? r.repository.slice(8) : r.repository;
  return `${r.registry}/${repo}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}
