// The IR optimiser for -O2: folding and propagation, control-flow simplification, local common
// subexpressions and dead code, repeated until nothing changes (a few rounds at most).
// -O0 runs none of it; only the cleanups code generation needs (unreachable blocks, unused
// atomic results) happen there.
import type { Func } from "./ir.js";
import { Folder } from "./opt-fold.js";
import { unsignNarrowLoads } from "./opt-narrow.js";
import { removeUnreachable, simplifyCfg } from "./opt-cfg.js";
import { coreCse, localCse } from "./opt-cse.js";
import { deadCodeElimination, dropUnusedFetch } from "./opt-dce.js";

const MAX_ROUNDS = 6;

export function optimize(fn: Func, level: 0 | 2): void {
  if (level === 0) {
    removeUnreachable(fn);
    dropUnusedFetch(fn);
    return;
  }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = new Folder(fn).run();
    changed = unsignNarrowLoads(fn) || changed;
    changed = simplifyCfg(fn, true) || changed;
    changed = localCse(fn) || changed;
    changed = coreCse(fn) || changed;
    changed = deadCodeElimination(fn) || changed;
    if (!changed) break;
  }
}
