// Failures and traps (abi.md §14): a trap or a host-side exception inside a VM call marks the VM failed
// for every context on that worker; the message is logged once at error.
import { MAX_BACKTRACE_FRAMES } from "./abi.ts";

/** A trap raised by the host itself (restricted callback, bad allocator result). */
export class HostTrap extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostTrap";
  }
}

/**
 * An exception that belongs to the test, not to the plugin: thrown by a test hook (e.g. sharedData.onAccess)
 * or by a forbidden re-entrant call into a running VM. The VM call it interrupts is lost (the VM is marked
 * failed, as the wasm stack was unwound), and the error is rethrown to whoever drove the outer VM call.
 */
export class HostUsageError extends Error {
  constructor(message: string, readonly original?: unknown) {
    super(message);
    this.name = "HostUsageError";
  }
}

/** Envoy's fail message: "Function: <name> failed: <message>" + the in-VM backtrace (cpp-host getFailMessage). */
export function failMessage(fn: string, err: unknown): string {
  let msg: string;
  let frames: string[] = [];
  if (err instanceof WebAssembly.RuntimeError) {
    msg = `Uncaught RuntimeError: ${err.message}`;
    frames = (err.stack ?? "").split("\n").filter((l) => l.includes("wasm://") || l.includes("wasm-function"));
  } else if (err instanceof HostTrap) {
    msg = err.message;
  } else if (err instanceof RangeError && /call stack/i.test(err.message)) {
    msg = "Uncaught RangeError: Maximum call stack size exceeded";
  } else {
    msg = `host error: ${err instanceof Error ? err.message : String(err)}`;
  }
  let out = `Function: ${fn} failed: ${msg}`;
  if (frames.length) {
    out += "\nProxy-Wasm plugin in-VM backtrace:";
    frames.slice(0, MAX_BACKTRACE_FRAMES).forEach((f, i) => {
      out += `\n  ${String(i).padStart(2)}: ${f.trim().replace(/^at /, "")}`;
    });
  }
  return out;
}
