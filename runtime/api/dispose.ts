// Symbol.dispose and Symbol.asyncDispose came with Node 20.4's explicit resource management
// support; on an older Node 20 the `using` declarations of the API still work with these.
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for("nodejs.dispose");
symbols.asyncDispose ??= Symbol.for("nodejs.asyncDispose");

export {};
