// The parser's lookahead: Chevrotain's own LL(k) strategy, with each decision's lookahead function
// built the first time the parser reaches that decision instead of all of them when the parser is
// constructed. The functions are the same ones, so every decision is the same; what changes is
// when the work is done. Building them is most of the parser's start-up time, and a translation
// unit that is only declarations (a vmlinux.h, most headers) never reaches the decisions inside
// statements, so a short-lived process (`tsbpf build`) does not pay for them.
import {
  LLkLookaheadStrategy,
  type ILookaheadStrategy,
  type ILookaheadValidationError,
  type IOrAlt,
  type OptionalProductionType,
  type Rule,
  type TokenType,
} from "./chevrotain.js";

type AlternationOptions = Parameters<ILookaheadStrategy["buildLookaheadForAlternation"]>[0];
type OptionalOptions = {
  prodOccurrence: number;
  prodType: OptionalProductionType;
  rule: Rule;
  maxLookahead: number;
  dynamicTokensEnabled: boolean;
};
type ChooseAlternative = (orAlts?: IOrAlt<unknown>[]) => number | undefined;
type EnterOptional = () => boolean;

export class LazyLookahead implements ILookaheadStrategy {
  private readonly llk: ILookaheadStrategy;

  constructor(maxLookahead: number) {
    this.llk = new LLkLookaheadStrategy({ maxLookahead });
  }

  validate(options: {
    rules: Rule[];
    tokenTypes: TokenType[];
    grammarName: string;
  }): ILookaheadValidationError[] {
    return this.llk.validate(options);
  }

  buildLookaheadForAlternation(options: AlternationOptions): ChooseAlternative {
    const llk = this.llk;
    let choose: ChooseAlternative | undefined;
    // Chevrotain calls it with the parser as `this`; the built function expects the same.
    const firstUse = function (this: unknown, orAlts?: IOrAlt<unknown>[]): number | undefined {
      if (choose === undefined) {
        choose = llk.buildLookaheadForAlternation(options);
        replaceInCache(this, firstUse, choose);
      }
      return choose.call(this, orAlts);
    };
    return firstUse;
  }

  buildLookaheadForOptional(options: OptionalOptions): EnterOptional {
    const llk = this.llk;
    let enter: EnterOptional | undefined;
    const firstUse = function (this: unknown): boolean {
      if (enter === undefined) {
        enter = llk.buildLookaheadForOptional(options);
        replaceInCache(this, firstUse, enter);
      }
      return enter.call(this);
    };
    return firstUse;
  }
}

/**
 * Puts the built function where the parser looks the decision up, so that later decisions call
 * it directly. That cache (lookAheadFuncsCache) is Chevrotain's own, not its API: should it be
 * missing, the first-use function simply stays in place.
 */
function replaceInCache(parser: unknown, firstUse: unknown, built: unknown): void {
  const cache = (parser as { lookAheadFuncsCache?: unknown }).lookAheadFuncsCache;
  if (!(cache instanceof Map)) return;
  for (const [key, f] of cache) {
    if (f === firstUse) {
      cache.set(key, built);
      return;
    }
  }
}
