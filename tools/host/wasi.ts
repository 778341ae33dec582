// The WASI subset Envoy provides under wasi_snapshot_preview1 and wasi_unstable (abi.md §13): stdout
// and stderr go to the log (info / error), clocks, random, an empty environ; files and sockets
// are refused with Envoy's errno values; proc_exit returns instead of exiting.
import { ContextKind, LogLevel, MAX_RANDOM_BYTES } from "./abi.ts";
import { WASI_SIGNATURES } from "./signatures.ts";
import type { WasmVm } from "./vm.ts";

const SUCCESS = 0;
const BADF = 8;
const ENOTDIR = 20;
const FAULT = 21;
const INVAL = 28;
const NOENT = 44;
const ENOSYS = 52;
const NOTSUP = 58;

/** fd_fdstat_get of stdout/stderr: a character device with the fd_write right. */
const FDSTAT_CHARACTER_DEVICE = Uint8Array.of(2);
const FD_WRITE_RIGHT = 64n;

export function wasiImports(vm: WasmVm, moduleName: string) {
  const env = vm.env;
  const mem = vm.mem;
  const isStd = (fd: number) => fd === 1 || fd === 2;
  const write = (fd: number, iovs: number, iovsLen: number, retWritten: number): number => {
    if (!isStd(fd)) return BADF;
    if (!mem.inBounds(iovs, iovsLen * 8)) return FAULT;
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const p = mem.getU32(iovs + i * 8);
      const n = mem.getU32(iovs + i * 8 + 4);
      if (!mem.inBounds(p, n)) return FAULT;
      parts.push(Buffer.from(mem.view(p, n)));
      total += n;
    }
    if (!mem.setU32(retWritten, total)) return FAULT;
    let msg = Buffer.concat(parts).toString("utf8");
    if (msg.endsWith("\n")) msg = msg.slice(0, -1);
    env.log(fd === 1 ? LogLevel.Info : LogLevel.Error, msg, vm.who(vm.ctx().kind === ContextKind.Stream));
    return SUCCESS;
  };
  const fns: Record<string, (...a: never[]) => number | void> = {
    fd_write: write,
    fd_pwrite: (fd: number, iovs: number, n: number, _off: bigint, ret: number) => write(fd, iovs, n, ret),
    fd_read: () => ENOSYS,
    fd_pread: () => ENOSYS,
    fd_seek: () => {
      env.log(LogLevel.Trace, `${moduleName} fd_seek`, vm.who(false), "host");
      return SUCCESS;
    },
    fd_close: () => {
      env.log(LogLevel.Trace, `${moduleName} fd_close`, vm.who(false), "host");
      return SUCCESS;
    },
    fd_fdstat_get: (fd: number, ret: number) => {
      if (!isStd(fd)) return BADF;
      if (!mem.inBounds(ret, 24)) return FAULT;
      mem.clear(ret, 24);
      mem.write(ret, FDSTAT_CHARACTER_DEVICE); // fs_filetype
      mem.setU64(ret + 8, FD_WRITE_RIGHT); // fs_rights_base
      return SUCCESS;
    },
    fd_fdstat_set_flags: () => ENOSYS,
    fd_prestat_get: () => BADF,
    fd_prestat_dir_name: () => ENOSYS,
    fd_filestat_get: () => BADF,
    path_open: () => NOENT,
    fd_readdir: (_fd: number, _buf: number, _len: number, _cookie: bigint, ret: number) => {
      mem.setU32(ret, 0);
      return ENOTDIR;
    },
    fd_advise: () => SUCCESS,
    fd_allocate: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_datasync: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_fdstat_set_rights: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_filestat_set_size: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_filestat_set_times: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_sync: (fd: number) => (isStd(fd) ? SUCCESS : BADF),
    fd_renumber: (a: number, b: number) => (isStd(a) && isStd(b) ? NOTSUP : BADF),
    fd_tell: (fd: number, ret: number) => {
      if (!isStd(fd)) return BADF;
      mem.setU64(ret, 0n);
      return SUCCESS;
    },
    sock_accept: (_fd: number, _flags: number, ret: number) => {
      mem.setU32(ret, 0);
      return NOTSUP;
    },
    sock_recv: (_fd: number, _ri: number, _rl: number, _f: number, retN: number, retFlags: number) => {
      mem.setU32(retN, 0);
      mem.setU32(retFlags, 0);
      return NOTSUP;
    },
    sock_send: (_fd: number, _si: number, _sl: number, _f: number, retN: number) => {
      mem.setU32(retN, 0);
      return NOTSUP;
    },
    // No environment variables (the embedded engine has no VmConfig.environment_variables).
    environ_sizes_get: (retCount: number, retSize: number) => (mem.setU32(retCount, 0) && mem.setU32(retSize, 0) ? SUCCESS : FAULT),
    environ_get: () => SUCCESS,
    args_sizes_get: (retCount: number, retSize: number) => {
      mem.setU32(retCount, 0);
      mem.setU32(retSize, 0);
      return SUCCESS;
    },
    args_get: () => SUCCESS,
    clock_time_get: (id: number, _precision: bigint, ret: number) => {
      if (id === 0) {
        if (!mem.inBounds(ret, 8)) return FAULT;
        mem.writeNow(env.clock, ret);
        return SUCCESS;
      }
      if (id === 1) return mem.setU64(ret, env.clock.monotonicNanos()) ? SUCCESS : FAULT;
      return NOTSUP;
    },
    clock_res_get: (id: number, ret: number) => {
      if (id !== 0 && id !== 1) return NOTSUP;
      return mem.setU64(ret, 1n) ? SUCCESS : FAULT;
    },
    random_get: (buf: number, len: number) => {
      if (len >>> 0 > MAX_RANDOM_BYTES) return INVAL;
      if (len === 0) return SUCCESS;
      if (!mem.inBounds(buf, len)) return FAULT;
      env.random(mem.view(buf, len));
      return SUCCESS;
    },
    sched_yield: () => SUCCESS,
    poll_oneoff: (_in: number, _out: number, _n: number, retN: number) => {
      mem.setU32(retN, 0);
      return SUCCESS;
    },
    proc_exit: (_code: number) => {
      env.log(LogLevel.Trace, `${moduleName} proc_exit`, vm.who(false), "host");
    },
  };
  // Every other preview1 function (path_*, sock_shutdown): NOTSUP.
  for (const name of Object.keys(WASI_SIGNATURES)) if (!fns[name]) fns[name] = () => NOTSUP;
  return fns;
}
