/**
 * One fuzz lane = one fast-check property: an arbitrary of inputs, a run that
 * sends one input to the live service and judges the answer against the
 * contract oracle. `fc.check` drives it with the run's seed, stops at the first
 * violation and shrinks it to the smallest input that still fails; the result
 * carries the one command that replays exactly that input
 * (`npm run fuzz -- --seed S --only LANE --path P`).
 */
import fc from "fast-check";

export interface Outcome {
  /** Labels for the summary's outcome counts (a status, a close code, an error code). */
  outcomes: string[];
  /** How many inputs this run sent (1 for a request; frames in a batch). */
  inputs: number;
  runtimeRefusals?: number;
  violation?: string;
}

export interface Lane<T> {
  /** The category name; also what `--only` takes. */
  name: string;
  arb: fc.Arbitrary<T>;
  /** Property runs (one generated value each). */
  runs: number;
  run: (value: T) => Promise<Outcome>;
  describe: (value: T) => string;
}

export interface LaneFailure {
  violation: string;
  counterexample: string;
  /** fast-check's path to the shrunk counterexample. */
  path: string;
  shrinks: number;
  /** The run at which the first failing input came. */
  at: number;
  replay: string;
}

export interface LaneResult {
  name: string;
  runs: number;
  inputs: number;
  runtimeRefusals: number;
  statuses: Map<string, number>;
  failure?: LaneFailure;
}

export interface CheckOptions {
  seed: number;
  /** Replay: the path printed by a failing run (then only that input, and its shrinks, run: numRuns 1 from the path). */
  path?: string;
  /** Extra arguments the replay command must carry (e.g. `--inject-oracle`). */
  replayArgs?: string[];
}

export async function checkLane<T>(lane: Lane<T>, o: CheckOptions): Promise<LaneResult> {
  const result: LaneResult = { name: lane.name, runs: 0, inputs: 0, runtimeRefusals: 0, statuses: new Map() };
  // Tallies count the generated inputs only; the shrinker's retries after the first failure are not inputs of the run.
  let shrinking = false;
  let last: { violation: string; value: T } | undefined;
  const property = fc.asyncProperty(lane.arb, async (value) => {
    const out = await lane.run(value);
    if (!shrinking) {
      result.runs++;
      result.inputs += out.inputs;
      result.runtimeRefusals += out.runtimeRefusals ?? 0;
      for (const label of out.outcomes) result.statuses.set(label, (result.statuses.get(label) ?? 0) + 1);
    }
    if (out.violation === undefined) return true;
    // The last failing value fast-check saw is the shrunk counterexample it reports.
    shrinking = true;
    last = { violation: out.violation, value };
    return false;
  });
  const details = await fc.check(property, { seed: o.seed, numRuns: lane.runs, ...(o.path === undefined ? {} : { path: o.path, numRuns: 1 }) });
  if (details.failed && last !== undefined) {
    const path = details.counterexamplePath ?? "";
    const extra = (o.replayArgs ?? []).join(" ");
    result.failure = {
      violation: last.violation,
      counterexample: lane.describe(last.value),
      path,
      shrinks: details.numShrinks,
      at: details.numRuns,
      replay: `npm run fuzz -- --seed ${o.seed} --only ${lane.name} --path ${path}${extra === "" ? "" : ` ${extra}`}`,
    };
  } else if (details.failed) {
    // The property itself threw (a harness bug, not a service answer): report it as such.
    result.failure = {
      violation: `harness error: ${String(details.errorInstance)}`,
      counterexample: "",
      path: details.counterexamplePath ?? "",
      shrinks: 0,
      at: details.numRuns,
      replay: "",
    };
  }
  return result;
}
