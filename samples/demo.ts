// `npm start`: compiles every sample, runs them on one simulated kernel and prints their output.
// The samples arrive with the compiler and the simulated kernel; until then this says so.
console.log("tsbpf: the samples are not built yet (see the open issues).");
