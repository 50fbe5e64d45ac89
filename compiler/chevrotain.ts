// Chevrotain, loaded from the single-file ES module the package ships (lib/chevrotain.mjs) instead
// of its package entry point. The entry point is the same library as hundreds of small modules
// (its own and lodash-es's), and importing them takes about 300 ms of every fresh process
// (`tsbpf build`, `npm start`); the one file takes about 15 ms. Every module of the compiler
// takes Chevrotain from here, so there is one copy of its classes in a process. Types come from
// the package itself (type-only imports load nothing).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Api from "chevrotain";

// The package's exports only name its entry point (lib/src/api.js); the bundle is beside lib/src.
const entry = createRequire(import.meta.url).resolve("chevrotain");
const chevrotain = (await import(
  pathToFileURL(join(dirname(entry), "..", "chevrotain.mjs")).href
)) as typeof Api;

export const { createToken, EmbeddedActionsParser, EOF, Lexer, LLkLookaheadStrategy } = chevrotain;
export type EmbeddedActionsParser = Api.EmbeddedActionsParser;
export type Lexer = Api.Lexer;
export type {
  ILookaheadStrategy,
  ILookaheadValidationError,
  IOrAlt,
  IRecognitionException,
  IToken,
  OptionalProductionType,
  ParserMethod,
  Rule,
  TokenType,
} from "chevrotain";
