/** Kept only for scripts/lib/supervisor.ts (owned elsewhere): the seeded RNG moved to random.ts, sleep to time.ts. */
export { sleep } from "./time.ts";
