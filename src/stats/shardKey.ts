/** Which stats shard counts a user: FNV-1a (32-bit) of the userId, mod the shard count. */
export function shardIndex(userId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export function shardName(index: number): string {
  return `shard-${index}`;
}

/** Reaper alarms per renewal of a shard's lease on an online user. */
export const LEASE_RENEW_REAPS = 6;

/**
 * Is this reaper alarm the one that renews the lease? The first alarm in each
 * period of LEASE_RENEW_REAPS × REAP_INTERVAL, by the clock: nothing to keep
 * across hibernation (which happens between any two alarms), nothing to write.
 */
export function leaseRenewalDue(now: number, reapIntervalMs: number): boolean {
  return now % (reapIntervalMs * LEASE_RENEW_REAPS) < reapIntervalMs;
}
