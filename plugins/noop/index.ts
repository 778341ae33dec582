// The no-op plugin: every callback exists and does nothing. It is the ABI floor that benchmarks
// measure every other plugin against, so it must stay free of work.
export * from "tollgate/assembly/exports";
import { HttpContext, registerRootContext, RootContext } from "tollgate/assembly";

class NoopRoot extends RootContext {
  createHttpContext(id: u32): HttpContext | null {
    return new HttpContext(id, this);
  }
}

registerRootContext("noop", (id: u32): RootContext => new NoopRoot(id));
