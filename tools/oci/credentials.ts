// Registry credentials from the docker config file, as docker, oras and Istio's agent read it:
// $DOCKER_CONFIG/config.json or ~/.docker/config.json; auths.<host>.auth (base64 user:pass) or username/password,
// credHelpers.<host> / credsStore via docker-credential-<helper> get.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for error messages. */
  source: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

/** Keys docker may have stored a registry under. */
function candidates(registry: string): string[] {
  if (registry === "docker.io") return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export function credentialsFromDockerConfig(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | null {
  const path = dockerConfigPath(env);
  if (!existsSync(path)) return null;
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    cfg = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const keys = candidates(registry);
  const helper = keys.map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? (cfg.credsStore && keys.some((k) => cfg.auths?.[k] !== undefined) ? cfg.credsStore : undefined);
  if (helper) {
    const got = fromHelper(helper, keys[0]);
    if (got) return { ...got, source: `docker-credential-${helper} (${path})` };
  }
  for (const k of keys) {
    const a = cfg.auths?.[k];
    if (!a) continue;
    if (a.auth) {
      const decoded = Buffer.from(a.auth, "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1), source: `${path} auths["${k}"]` };
    }
    if (a.username && a.password) return { username: a.username, password: a.password, source: `${path} auths["${k}"]` };
  }
  return null;
}

function fromHelper(helper: string, serverUrl: string): { username: string; password: string } | null {
  try {
    const out = execFileSync(`docker-credential-${helper}`, ["get"], { input: serverUrl, encoding: "utf8", timeout: 10_000, stdio: ["pipe", "pipe", "ignore"] });
    const j = JSON.parse(out) as { Username?: string; Secret?: string };
    return j.Username && j.Secret ? { username: j.Username, password: j.Secret } : null;
  } catch {
    return null;
  }
}
