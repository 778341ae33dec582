// proxy_set_tick_period_milliseconds (abi.md §8): one timer per root context on the injectable clock;
// on fire → proxy_on_tick(root) and re-arm with the current period (no catch-up); 0 disables.
import { R } from "./abi.ts";
import type { RootContext } from "./context.ts";
import type { WasmVm } from "./vm.ts";

function armTick(root: RootContext): void {
  const clock = root.vm.env.clock;
  if (root.tickTimer !== null) clock.clearTimer(root.tickTimer);
  root.tickTimer = null;
  if (root.tickPeriod <= 0) return;
  const fire = (): void => {
    root.tickTimer = null;
    if (root.vm.failed || root.deleted) return;
    root.onTick();
    if (root.tickPeriod > 0 && root.tickTimer === null && !root.vm.failed && !root.deleted) {
      root.tickTimer = clock.setTimer(fire, root.tickPeriod);
    }
  };
  root.tickTimer = clock.setTimer(fire, root.tickPeriod);
}

export function timersImports(vm: WasmVm) {
  return {
    proxy_set_tick_period_milliseconds(period: number): number {
      const root = vm.rootOfCurrent();
      if (!root) return R.Ok;
      root.tickPeriod = period >>> 0;
      armTick(root);
      return R.Ok;
    },
  };
}
