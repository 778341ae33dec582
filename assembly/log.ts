// Logging through the host, and where debug builds route AssemblyScript aborts.
import { LogLevel } from "./abi";
import { proxy_log } from "./imports";
import { decimal } from "./number";

/** Logs at `level`; never fails. */
export function log(level: u32, message: string): void {
  const buf = String.UTF8.encode(message, false);
  proxy_log(level, changetype<usize>(buf), <usize>buf.byteLength);
}

/**
 * Debug builds route aborts (config assertions, out-of-bounds) here: the host log at critical, then a trap.
 * Release builds trap without a message (asconfig.json `abort=`), which keeps the strings out of the binary.
 */
// @ts-ignore: decorator
@global
export function tollgate_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: ";
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + decimal(<i64>line) + ":" + decimal(<i64>column);
  log(LogLevel.CRITICAL, text);
}
