// Restricted callbacks (abi.md §1.5): while the guest runs _initialize/main/_start, or its allocator,
// Envoy lets it call only a few host functions; any other host call traps. This module is the one place
// that decides: one table (ALLOWED) and one predicate (mayCall). Every host function is checked against
// it — through the wrapper imports.ts puts around it, or, for the hot ones, by calling WasmVm.checkCall
// first thing itself (selfChecked), which skips the wrapper's megamorphic call.
import { WASI_MODULES } from "./signatures.ts";
import { HostTrap } from "./traps.ts";

/** What the guest is running: a normal callback, or a restricted phase. */
export const enum Phase {
  Callback = 0,
  Start = 1,
  Malloc = 2,
}

const wasi = (names: string[]): string[] => names.flatMap((f) => WASI_MODULES.map((m) => `${m}.${f}`));

/** Host calls allowed while _initialize/main/_start run; anything else traps. */
export const START_ALLOWED: ReadonlySet<string> = new Set([
  "env.emscripten_notify_memory_growth", "env.proxy_log",
  ...wasi(["fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get", "clock_time_get", "clock_res_get",
    "random_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_advise", "fd_allocate", "fd_close",
    "fd_datasync", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times",
    "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber",
    "fd_seek", "fd_sync", "fd_tell", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
    "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "sched_yield", "sock_accept", "sock_recv", "sock_send", "sock_shutdown", "proc_exit"]),
]);

/** Host calls allowed inside the guest allocator. */
export const MALLOC_ALLOWED: ReadonlySet<string> = new Set(["env.proxy_log", ...wasi(["fd_write", "clock_time_get", "poll_oneoff"])]);

/** "module.name" → bit (1 << phase) set for each restricted phase that allows the call. */
const ALLOWED = new Map<string, number>();
for (const k of START_ALLOWED) ALLOWED.set(k, (ALLOWED.get(k) ?? 0) | (1 << Phase.Start));
for (const k of MALLOC_ALLOWED) ALLOWED.set(k, (ALLOWED.get(k) ?? 0) | (1 << Phase.Malloc));

/** May host function `key` ("env.proxy_log", "wasi_unstable.fd_write") run while the guest is in `phase`? */
export function mayCall(phase: Phase, key: string): boolean {
  return phase === Phase.Callback || ((ALLOWED.get(key) ?? 0) & (1 << phase)) !== 0;
}

/** True when `key` runs in every phase, so it needs no check at all. */
export function alwaysAllowed(key: string): boolean {
  return mayCall(Phase.Start, key) && mayCall(Phase.Malloc, key);
}

/** The trap a forbidden call raises (Envoy's restricted_callback). */
export function restrictedTrap(phase: Phase, key: string): HostTrap {
  return new HostTrap(`restricted_callback: ${key} may not be called ${phase === Phase.Malloc ? "from the allocator (malloc)" : "during _initialize/_start"}`);
}

/** Host functions that begin with vm.checkCall(key) themselves (see selfChecked). */
const SELF_CHECKED = new WeakSet<object>();

/**
 * Marks hot host functions that start with `vm.checkCall(key)`, so they are imported as they are instead
 * of through the checking wrapper: that wrapper is one closure shape calling every host function, a
 * megamorphic call that costs ~10 ns per host call.
 */
export function selfChecked<T extends object>(fns: T, ...names: Array<keyof T & string>): T {
  for (const n of names) SELF_CHECKED.add(fns[n] as object);
  return fns;
}

export function isSelfChecked(f: object): boolean {
  return SELF_CHECKED.has(f);
}
