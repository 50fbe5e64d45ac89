// The front end keeps nearly everything it allocates to its end: half a million tokens for a
// vmlinux.h, the declarations, the types. V8 allocates such objects in the old generation at
// once ("pretenuring") when a scavenge finds at least 85% of an allocation site's recent objects
// alive, and decides it once per site and process. But a scavenge that moves a page of nearly
// all live objects to the old generation whole ("page promotion") does not count that page's
// objects as found: the token site's ratio falls under 85% and its tokens are copied by every
// scavenge of every compile after that. Measured on vmlinux.h: 11 scavenges and ~130 ms of GC
// per front-end run, against 4 and ~50 ms with page promotion off.
//
// So page promotion is off while the front end runs. V8 reads the flag at each scavenge; it is
// turned back on after, unless the process was started with it off.
import { setFlagsFromString } from "node:v8";

const startedWithout = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) =>
  a.includes("--no-page-promotion"),
);
let depth = 0;

/** Runs `f` with V8's page promotion off (see above). */
export function withoutPagePromotion<T>(f: () => T): T {
  if (depth++ === 0 && !startedWithout) setFlagsFromString("--no-page-promotion");
  try {
    return f();
  } finally {
    if (--depth === 0 && !startedWithout) setFlagsFromString("--page-promotion");
  }
}
